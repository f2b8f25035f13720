# SPDX-License-Identifier: MIT
"""Unit-of-work operations of the workflow services."""

from flask import current_app
from invenio_records_resources.services.uow import Operation
from invenio_search.engine import search


class BulkRecordCommitOp(Operation):
    """Save several records, then index them in one bulk request after commit.

    Each document is indexed with its revision as an external version, so a
    late request can never overwrite a newer revision: the newest revision
    wins in the index, whatever order the requests arrive in.
    """

    def __init__(self, records, indexer):
        """Records to save and the indexer of their type."""
        self._records = list(records)
        self._indexer = indexer

    def on_register(self, uow):
        """Save every record (flushes to the database inside the transaction)."""
        for record in self._records:
            record.commit()

    def on_commit(self, uow):
        """Index all records in one bulk request."""
        bulk_index(self._indexer, self._records)


class BulkRecordIndexOp(BulkRecordCommitOp):
    """Index records already saved in this transaction, in one bulk request."""

    def on_register(self, uow):
        """Nothing to save: the records were written when they were created."""


def bulk_index(indexer, records):
    """Index ``records`` with one bulk request; stale revisions are ignored.

    Returns the number of documents written.
    """
    actions = [index_action(indexer, record) for record in records]
    if not actions:
        return 0
    written, errors = search.helpers.bulk(
        indexer.client, actions, raise_on_error=False, stats_only=False
    )
    failures = [e for e in errors if _status(e) != 409]
    if failures:
        # The database is the source of truth and is already committed:
        # report, and let `invenio workflows reindex` repair the index.
        current_app.logger.error(
            "Bulk indexing failed for %d documents: %s", len(failures), failures[:3]
        )
    return written


def index_action(indexer, record):
    """The bulk ``index`` action of one record, versioned by its revision."""
    index = indexer.record_to_index(record)
    return {
        "_op_type": "index",
        "_index": indexer._prepare_index(index),
        "_id": str(record.id),
        "_version": record.revision_id,
        "_version_type": indexer._version_type,
        "_source": indexer._prepare_record(record, index),
    }


def _status(error):
    """HTTP status of one failed bulk item."""
    return next(iter(error.values()), {}).get("status")

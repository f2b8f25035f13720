# SPDX-License-Identifier: MIT
"""Result objects that are not plain search results."""

from invenio_records_resources.services.base.results import ServiceListResult
from invenio_records_resources.services.records.results import RecordItem


class WorkflowItem(RecordItem):
    """A workflow result that knows whether the call created it."""

    created = True
    """False when an idempotent create returned an existing workflow."""


class RecordListResult(ServiceListResult):
    """Records not from a search, shaped like a search result (``hits.hits``)."""

    def __init__(self, service, identity, records, total, links=None):
        """Records already read from the database, with their total count."""
        self._service = service
        self._identity = identity
        self._records = records
        self._total = total
        self._links = links or {}

    def __len__(self):
        """Number of records in this page."""
        return len(self._records)

    def __iter__(self):
        """The records as dictionaries."""
        return iter(self.to_dict()["hits"]["hits"])

    @property
    def total(self):
        """Number of records in all pages."""
        return self._total

    def _dump(self, record):
        data = self._service.schema.dump(
            record, context={"identity": self._identity, "record": record}
        )
        links_tpl = self._service.links_item_tpl
        if links_tpl is not None:
            data["links"] = links_tpl.expand(self._identity, record)
        return data

    def to_dict(self):
        """The search-shaped dictionary."""
        result = {
            "hits": {
                "hits": [self._dump(record) for record in self._records],
                "total": self._total,
            }
        }
        if self._links:
            result["links"] = self._links
        return result


class RevisionList(RecordListResult):
    """One page of a record's revisions, newest first."""

    def __init__(self, service, identity, revisions, total, page, size):
        """Revisions as records, the total count and the page asked for."""
        super().__init__(service, identity, revisions, total)
        self.page = page
        self.size = size

    def _dump(self, record):
        # A revision is the record as it was then: no links to live actions.
        return self._service.schema.dump(
            record, context={"identity": self._identity, "record": record}
        )

    def to_dict(self):
        """The search-shaped dictionary, with the page asked for."""
        result = super().to_dict()
        result["page"] = self.page
        result["size"] = self.size
        return result

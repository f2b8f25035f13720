# SPDX-License-Identifier: MIT
"""The search indices of workflows and tasks, fed from the database.

The database is the source of truth. Every write of a row sets its
``index_dirty`` flag in the same statement: the flagged rows are the index
queue, which :func:`drain` consumes. Documents are built straight from the
rows (no record objects, no system fields), sent in bulk requests, and
versioned externally so that the index always keeps the newest state,
whatever order the requests arrive in:

- a task's version is its revision id (``version_id - 1``);
- a workflow's version is ``index_seq``, bumped by every write of the row,
  since its live ``task_counts`` change without a new revision.

:func:`reindex` rebuilds the indices from the tables, :func:`ensure_indices`
makes sure the indices exist with the module's mappings, and :func:`check`
compares the indices with the database.
"""

import json
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from invenio_db import db
from invenio_search import current_search, current_search_client
from invenio_search.engine import search
from sqlalchemy import func, select, true, tuple_, update

from .proxies import current_workflows
from .records.api import TaskRecord, WorkflowRecord

logger = logging.getLogger(__name__)

KINDS = ("workflows", "tasks")
"""The two indices, in the order they are processed."""

DRAIN_LIMIT = 2000
"""Dirty rows read per table and per round of :func:`drain`."""

DRAIN_MAX_ROUNDS = 10
"""Rounds of one :func:`drain` call at most (it goes on while rounds are full)."""

REINDEX_CHUNK_SIZE = 2000
"""Documents per bulk request of :func:`reindex`."""

REINDEX_CONCURRENCY = 2
"""Bulk requests of :func:`reindex` in flight while the next one is built."""

MAX_CHUNK_BYTES = 10 * 1024 * 1024
"""Size bound of one bulk request (task results may be large)."""

CHECK_BATCH_SIZE = 5000
"""Hits per page when :func:`check` scans an index."""

_IDS_PER_QUERY = 1000


class IndexingError(Exception):
    """An index could not be created or brought to the module's mapping."""


def _iso(value):
    return None if value is None else value.isoformat()


def _base_document(row, record_cls):
    # What ``SearchDumper`` adds to the record's data, and the ``$schema``
    # that the record class sets when the stored JSON lacks it. A shallow
    # copy is enough: nested values are only serialized, never changed.
    document = dict(row.json)
    if "$schema" not in document:
        document["$schema"] = record_cls.schema.value
    document["id"] = str(row.id)
    document["version_id"] = row.version_id
    document["created"] = _iso(row.created)
    document["updated"] = _iso(row.updated)
    return document


def workflow_document(row):
    """The search document of a workflow row (model instance or result row).

    Equal to what the records' indexer makes of the record, except that the
    live ``task_counts`` column, when set, replaces the counts of the JSON.
    """
    document = _base_document(row, WorkflowRecord)
    if row.task_counts is not None:
        document["task_counts"] = row.task_counts
    return document


def task_document(row):
    """The search document of a task row (model instance or result row)."""
    document = _base_document(row, TaskRecord)
    document["position"] = row.position
    return document


def _workflow_version(row):
    return row.index_seq


def _task_version(row):
    # The revision id, as the records' indexer versions documents.
    return row.version_id - 1


@dataclass(frozen=True)
class _Kind:
    """How one of the two tables is indexed."""

    name: str
    record_cls: type
    service: str
    document: object
    version: object
    version_column: str
    document_columns: tuple

    @property
    def table(self):
        """The table of the record class."""
        return self.record_cls.model_cls.__table__

    def columns(self):
        """Columns needed to build documents and to clear the queue flag."""
        names = dict.fromkeys(
            self.document_columns + (self.version_column, "index_dirty")
        )
        # Table columns, not ORM attributes: plain rows, no ORM loading.
        return [self.table.c[name] for name in names]

    def target(self):
        """``(alias, version type)`` as the service's indexer uses them."""
        indexer = getattr(current_workflows, self.service).indexer
        alias = indexer._prepare_index(self.record_cls.index._name)
        return alias, indexer._version_type


_BASE_COLUMNS = ("id", "json", "created", "updated", "version_id")

_KINDS = {
    "workflows": _Kind(
        name="workflows",
        record_cls=WorkflowRecord,
        service="workflows_service",
        document=workflow_document,
        version=_workflow_version,
        version_column="index_seq",
        document_columns=_BASE_COLUMNS + ("task_counts",),
    ),
    "tasks": _Kind(
        name="tasks",
        record_cls=TaskRecord,
        service="tasks_service",
        document=task_document,
        version=_task_version,
        version_column="version_id",
        document_columns=_BASE_COLUMNS + ("position",),
    ),
}


def _kind(kind):
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"Unknown kind {kind!r}: expected one of {KINDS}.")


def index_alias(kind):
    """Name of the write alias of the ``workflows`` or ``tasks`` index."""
    return _kind(kind).target()[0]


def index_action(kind, row, target=None):
    """The bulk action of one row of ``kind`` (``workflows`` or ``tasks``).

    An ``index`` action with the row's external version; a ``delete``
    action (same version) for a deleted record, whose JSON is NULL.
    ``target`` is ``(alias, version type)``, looked up when not given.
    """
    spec = _kind(kind)
    alias, version_type = target or spec.target()
    action = {
        "_index": alias,
        "_id": str(row.id),
        "_version": spec.version(row),
        "_version_type": version_type,
    }
    if row.json is None:
        action["_op_type"] = "delete"
    else:
        action["_op_type"] = "index"
        action["_source"] = spec.document(row)
    return action


def _item_info(item):
    """``(operation, info)`` of one item of a bulk response."""
    return next(iter(item.items()))


def _action_lines(action, dumps):
    """The header and source lines of one bulk action (no source: None)."""
    operation = action["_op_type"]
    meta = {"_index": action["_index"], "_id": action["_id"]}
    if "_version" in action:
        meta["version"] = action["_version"]
        meta["version_type"] = action["_version_type"]
    source = action.get("_source")
    return dumps({operation: meta}), None if source is None else dumps(source)


def _chunks(actions, chunk_size, dumps):
    """Lists of ``(header, source)`` lines of ``chunk_size`` actions at most."""
    chunk = []
    size = 0
    for action in actions:
        lines = _action_lines(action, dumps)
        length = len(lines[0]) + len(lines[1] or "") + 2
        if chunk and (len(chunk) >= chunk_size or size + length > MAX_CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(lines)
        size += length
    if chunk:
        yield chunk


def _send(client, chunk):
    """One bulk request; its response items, in the order of ``chunk``."""
    body = "".join(
        f"{header}\n" if source is None else f"{header}\n{source}\n"
        for header, source in chunk
    )
    # Never let a write create a deleted index by dynamic mapping: the item
    # fails (404) and its row stays queued until the index exists again.
    return client.bulk(body=body, require_alias=True)["items"]


class _BulkOutcome:
    """Tally of the items of bulk responses."""

    def __init__(self):
        self.written = 0
        self.failures = []

    def add(self, chunk, items):
        """Count the items of one response; return the lines to send again."""
        again = []
        for lines, item in zip(chunk, items):
            operation, info = _item_info(item)
            status = info.get("status", 500)
            if 200 <= status < 300:
                self.written += 1
            elif status == 409 or (operation == "delete" and status == 404):
                # An older version refused, or an absent document deleted.
                continue
            elif status == 429:
                again.append((lines, item))
            else:
                self.failures.append(item)
        return again


def bulk_write(
    actions, chunk_size=DRAIN_LIMIT, client=None, max_retries=0, concurrency=1
):
    """Send ``actions`` in bulk requests of ``chunk_size`` documents at most.

    Returns ``(written, failures)``: the number of documents the cluster
    wrote, and the failed items of the bulk responses. Stale documents
    (refused because the index has a newer version) are neither. Items the
    cluster rejects as too busy (429) are sent again up to ``max_retries``
    times. Errors of a whole request (cluster unreachable, ...) are raised.
    With ``concurrency`` above 1, that many requests are in flight while the
    next chunk is being serialized.
    """
    client = client or current_search_client
    # The proxy is of no use in the sending threads (no application context).
    client = getattr(client, "_get_current_object", lambda: client)()
    dumps = client.transport.serializer.dumps
    outcome = _BulkOutcome()

    def settle(chunk, items):
        again = outcome.add(chunk, items)
        for attempt in range(max_retries):
            if not again:
                return
            time.sleep(min(2**attempt, 30))
            retried = [lines for lines, _ in again]
            again = outcome.add(retried, _send(client, retried))
        outcome.failures.extend(item for _, item in again)

    chunks = _chunks(actions, chunk_size, dumps)
    if concurrency <= 1:
        for chunk in chunks:
            settle(chunk, _send(client, chunk))
        return outcome.written, outcome.failures
    pending = deque()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for chunk in chunks:
            pending.append((chunk, pool.submit(_send, client, chunk)))
            if len(pending) > concurrency:
                chunk, future = pending.popleft()
                settle(chunk, future.result())
        while pending:
            chunk, future = pending.popleft()
            settle(chunk, future.result())
    return outcome.written, outcome.failures


def _failure_status(item):
    return _item_info(item)[1].get("status")


def _failure_id(item):
    return _item_info(item)[1].get("_id")


def _kept_in_queue(failures):
    """Ids of the failed documents that a later attempt may index.

    A document the cluster refuses as malformed (400) would be refused
    again: keeping it queued would only take the place of others.
    """
    kept = set()
    for item in failures:
        if _failure_status(item) != 400:
            kept.add(_failure_id(item))
    return kept


def _log_failures(failures, what):
    if failures:
        reasons = [
            f"{_failure_id(item)}: {_failure_status(item)} "
            f"{_item_info(item)[1].get('error')}"
            for item in failures[:3]
        ]
        logger.error(
            "%s: %d documents failed to index (e.g. %s)",
            what,
            len(failures),
            "; ".join(reasons),
        )


def _clear_dirty(kind, rows):
    """Clear the queue flag of ``rows`` where the row did not change since read.

    A row written meanwhile (another version) keeps its flag: the next drain
    indexes it again. One UPDATE per chunk of rows, matching ``(id,
    version)`` pairs: an executemany would cost a round trip per row.
    """
    spec = _kind(kind)
    table = spec.table
    version = table.c[spec.version_column]
    pairs = [(row.id, getattr(row, spec.version_column)) for row in rows]
    for start in range(0, len(pairs), _IDS_PER_QUERY):
        chunk = pairs[start : start + _IDS_PER_QUERY]
        db.session.execute(
            update(table)
            .where(table.c.id.in_([id_ for id_, _ in chunk]))
            .where(tuple_(table.c.id, version).in_(chunk))
            .where(table.c.index_dirty == true())
            .values(index_dirty=False)
        )
    return len(pairs)


@dataclass
class DrainResult:
    """What one :func:`drain` call did."""

    indexed: int = 0
    """Documents written to the index."""

    failures: int = 0
    """Documents the cluster refused (their rows stay queued when retryable)."""

    rounds: int = 0
    """Rounds run (one read and bulk request per table and round)."""

    unreachable: bool = False
    """Whether it stopped because the search cluster could not be reached."""


def _read_dirty(spec, limit):
    statement = (
        select(*spec.columns()).where(spec.table.c.index_dirty == true()).limit(limit)
    )
    return db.session.execute(statement).all()


def drain(limit=DRAIN_LIMIT, max_rounds=DRAIN_MAX_ROUNDS):
    """Index the queued (dirty) rows of both tables and clear their flags.

    Each round reads at most ``limit`` dirty rows per table, ends the read
    transaction, sends them in one bulk request per table and chunk, then
    clears the flags of the rows that did not change meanwhile, in a short
    transaction of its own: no row lock is held while the cluster works.
    Rounds go on while one was full, ``max_rounds`` at most. When the
    cluster cannot be reached, nothing is cleared: the rows stay queued.
    """
    result = DrainResult()
    targets = {kind: _kind(kind).target() for kind in KINDS}
    for _ in range(max_rounds):
        rows = {kind: _read_dirty(_kind(kind), limit) for kind in KINDS}
        # End the read transaction (with SQLite it holds the write lock).
        db.session.commit()
        if not any(rows.values()):
            break
        result.rounds += 1
        indexed = {}
        round_failures = 0
        try:
            for kind, batch in rows.items():
                if not batch:
                    continue
                written, failures = bulk_write(
                    (index_action(kind, row, targets[kind]) for row in batch),
                    chunk_size=limit,
                )
                _log_failures(failures, f"Indexing queued {kind}")
                result.indexed += written
                round_failures += len(failures)
                kept = _kept_in_queue(failures)
                indexed[kind] = [row for row in batch if str(row.id) not in kept]
        except search.exceptions.TransportError as error:
            # Nothing is cleared, not even what this round did index: a
            # second indexing is harmless, a lost document is not.
            result.unreachable = isinstance(error, search.exceptions.ConnectionError)
            logger.warning(
                "Index queue not drained (%d documents indexed): %s",
                result.indexed,
                error,
            )
            break
        result.failures += round_failures
        for kind, batch in indexed.items():
            _clear_dirty(kind, batch)
        db.session.commit()
        full = any(len(batch) >= limit for batch in rows.values())
        if not full or round_failures:
            break
    return result


def _load_mapping(index):
    with open(current_search.mappings[index]) as handle:
        return json.load(handle)["mappings"]


def _mapping_problem(index, alias, client):
    """Why the live index of ``alias`` is not the module's: ``(reason, additive)``.

    ``additive`` when the module's mapping only adds fields, which the live
    index can take in place. ``None`` when the index is the module's.
    """
    expected = _load_mapping(index)
    live = client.indices.get_mapping(index=alias)
    if len(live) != 1:
        return f"{len(live)} indices behind {alias}", False
    ((name, body),) = live.items()
    mapping = body.get("mappings", {})
    if str(mapping.get("dynamic")) != str(expected.get("dynamic")):
        return f"{name} has a dynamic mapping", False
    fields = set(mapping.get("properties", {}))
    expected_fields = set(expected.get("properties", {}))
    if fields < expected_fields:
        added = ", ".join(sorted(expected_fields - fields))
        return f"new fields: {added}", True
    if fields != expected_fields:
        return f"{name} has other fields than the module's mapping", False
    return None


def _add_fields(index, alias, client):
    """Put the module's mapping on the live index; False when it refuses."""
    try:
        client.indices.put_mapping(index=alias, body=_load_mapping(index))
    except search.exceptions.RequestError as error:
        logger.warning("Cannot update the mapping of %s: %s", alias, error)
        return False
    return True


def ensure_indices(kinds=KINDS, recreate=False):
    """Make sure each index of ``kinds`` exists with the module's mapping.

    An index is created (with its aliases) when missing. When the module's
    mapping only adds fields, they are added to the live index. Otherwise,
    when its mapping is not the module's (as when a document was written
    after the index was deleted, and the cluster created an index with a
    dynamic mapping), or when ``recreate`` is true, the index is deleted and
    created again, empty: run :func:`reindex` then. Returns ``{kind:
    (action, reason)}``, action being ``kept``, ``updated``, ``created`` or
    ``recreated``.
    """
    client = current_search_client
    done = {}
    for kind in kinds:
        spec = _kind(kind)
        index = spec.record_cls.index._name
        alias = spec.target()[0]
        if not client.indices.exists(index=alias):
            action, reason = "created", "missing"
        elif recreate:
            action, reason = "recreated", "asked"
        else:
            reason, additive = _mapping_problem(index, alias, client) or (None, False)
            if reason is None:
                action = "kept"
            elif additive and _add_fields(index, alias, client):
                action = "updated"
            else:
                action = "recreated"
        if action == "recreated":
            list(current_search.delete(ignore=[404], index_list=[index]))
            if client.indices.exists(index=alias):
                raise IndexingError(f"Cannot delete the index behind {alias!r}.")
        if action in ("created", "recreated"):
            list(current_search.create(ignore_existing=True, index_list=[index]))
            if not client.indices.exists(index=alias):
                raise IndexingError(
                    f"Cannot create the index {index!r}: is it excluded by "
                    "SEARCH_MAPPINGS?"
                )
        if action != "kept":
            problem = _mapping_problem(index, alias, client)
            if problem:
                raise IndexingError(
                    f"The index {index!r} is still not the module's: {problem[0]}."
                )
        done[kind] = (action, reason)
    return done


@dataclass
class ReindexResult:
    """What :func:`reindex` did for one index."""

    rows: int = 0
    """Rows read from the table."""

    sent: int = 0
    """Documents sent (deleted records included, as deletions)."""

    written: int = 0
    """Documents the cluster wrote."""

    failures: list = field(default_factory=list)
    """Failed items of the bulk responses."""

    @property
    def stale(self):
        """Documents not written because the index had a newer version."""
        return self.sent - self.written - len(self.failures)


def _refresh_interval(client, alias):
    """The index's own refresh interval, None for the cluster's default."""
    settings = client.indices.get_settings(
        index=alias, name="index.refresh_interval", flat_settings=True
    )
    values = {
        body.get("settings", {}).get("index.refresh_interval")
        for body in settings.values()
    }
    interval = values.pop() if len(values) == 1 else None
    # -1 is what an interrupted reindex left: restoring it would leave the
    # index without refreshes for good.
    return None if interval == "-1" else interval


def reindex(kinds=KINDS, chunk_size=REINDEX_CHUNK_SIZE, on_progress=None):
    """Index every row of the tables of ``kinds``; returns ``{kind: ReindexResult}``.

    The indices must exist (see :func:`ensure_indices`). Rows are streamed
    with a server-side cursor and sent in bulk requests of ``chunk_size``
    documents while the index does not refresh; it refreshes once at the
    end. A document already indexed at a newer version is left alone, so
    workers may go on meanwhile. Afterwards, in a short transaction, the
    queue flags of the rows indexed are cleared where the row did not change
    since it was read. ``on_progress(kind, rows)`` follows every batch read.
    """
    client = current_search_client
    results = {}
    for kind in kinds:
        spec = _kind(kind)
        target = spec.target()
        alias = target[0]
        result = results[kind] = ReindexResult()
        dirty = {}

        def actions(rows):
            for batch in rows.partitions():
                for row in batch:
                    if row.index_dirty:
                        dirty[str(row.id)] = row
                    yield index_action(kind, row, target)
                result.rows += len(batch)
                if on_progress is not None:
                    on_progress(kind, len(batch))

        interval = _refresh_interval(client, alias)
        client.indices.put_settings(
            index=alias, body={"index": {"refresh_interval": "-1"}}
        )
        try:
            statement = select(*spec.columns()).execution_options(yield_per=chunk_size)
            result.written, result.failures = bulk_write(
                actions(db.session.execute(statement)),
                chunk_size=chunk_size,
                client=client,
                max_retries=3,
                concurrency=REINDEX_CONCURRENCY,
            )
            result.sent = result.rows
            db.session.commit()
        finally:
            client.indices.put_settings(
                index=alias, body={"index": {"refresh_interval": interval}}
            )
        client.indices.refresh(index=alias)
        _log_failures(result.failures, f"Reindexing {kind}")
        kept = _kept_in_queue(result.failures)
        _clear_dirty(kind, [row for id_, row in dirty.items() if id_ not in kept])
        db.session.commit()
    return results


@dataclass
class CheckResult:
    """Differences between one index and its table."""

    rows: int = 0
    """Records in the table (deleted ones excluded)."""

    documents: int = 0
    """Documents in the index."""

    missing: list = field(default_factory=list)
    """Ids of records without a document."""

    extra: list = field(default_factory=list)
    """Ids of documents without a record."""

    stale: list = field(default_factory=list)
    """``(id, expected version, indexed version)`` of out-of-date documents."""

    queued: int = 0
    """Rows in the index queue (not compared: the next drain indexes them)."""

    index_exists: bool = True
    """Whether the index exists at all."""

    @property
    def ok(self):
        """Whether the index agrees with the table."""
        return self.index_exists and not (self.missing or self.extra or self.stale)


def _expected_versions(spec, ids=None):
    """``{id: (expected version, dirty)}`` of the table's rows.

    The version is None for a deleted record (no document expected).
    """
    table = spec.table
    names = dict.fromkeys(("id", "version_id", spec.version_column, "index_dirty"))
    statement = select(
        *(table.c[name] for name in names), table.c.json.is_(None).label("deleted")
    )
    if ids is None:
        statements = [statement.execution_options(yield_per=CHECK_BATCH_SIZE)]
    else:
        statements = [
            statement.where(table.c.id.in_(ids[start : start + _IDS_PER_QUERY]))
            for start in range(0, len(ids), _IDS_PER_QUERY)
        ]
    expected = {}
    for statement in statements:
        for row in db.session.execute(statement):
            version = None if row.deleted else spec.version(row)
            expected[str(row.id)] = (version, bool(row.index_dirty))
    return expected


def _indexed_versions(client, alias):
    hits = search.helpers.scan(
        client,
        index=alias,
        query={"query": {"match_all": {}}, "_source": False, "version": True},
        size=CHECK_BATCH_SIZE,
    )
    return {hit["_id"]: hit["_version"] for hit in hits}


def _fetch_versions(client, alias, ids):
    """Versions of the current documents of ``ids`` (real-time, no refresh)."""
    versions = {}
    for start in range(0, len(ids), CHECK_BATCH_SIZE):
        chunk = ids[start : start + CHECK_BATCH_SIZE]
        response = client.mget(index=alias, body={"ids": chunk}, _source=False)
        for doc in response["docs"]:
            if doc.get("found"):
                versions[doc["_id"]] = doc["_version"]
    return versions


def _compare(expected, indexed, result):
    """Fill ``result`` with the differences; return the ids that differ."""
    result.missing, result.extra, result.stale = [], [], []
    result.queued = 0
    for id_, (version, dirty) in expected.items():
        if dirty:
            result.queued += 1
            continue
        found = indexed.get(id_)
        if version is None:
            if found is not None:
                result.extra.append(id_)
        elif found is None:
            result.missing.append(id_)
        elif found != version:
            result.stale.append((id_, version, found))
    result.extra.extend(indexed.keys() - expected.keys())
    return result.missing + result.extra + [id_ for id_, _, _ in result.stale]


def check(kinds=KINDS):
    """Compare each index of ``kinds`` with its table: ``{kind: CheckResult}``.

    Every record must have a document at its expected version (a task's
    revision id, a workflow's ``index_seq``), and every document a record.
    Rows in the index queue are counted, not compared. What differs after
    the scan is read again, the rows first and then the documents (in real
    time), so that a record indexed meanwhile is not reported.
    """
    client = current_search_client
    results = {}
    for kind in kinds:
        spec = _kind(kind)
        alias = spec.target()[0]
        result = results[kind] = CheckResult()
        expected = _expected_versions(spec)
        db.session.commit()
        result.rows = sum(1 for version, _ in expected.values() if version is not None)
        if not client.indices.exists(index=alias):
            result.index_exists = False
            _compare(expected, {}, result)
            continue
        client.indices.refresh(index=alias)
        indexed = _indexed_versions(client, alias)
        result.documents = len(indexed)
        differing = _compare(expected, indexed, result)
        if differing:
            for id_ in differing:
                expected.pop(id_, None)
                indexed.pop(id_, None)
            expected.update(_expected_versions(spec, ids=differing))
            db.session.commit()
            indexed.update(_fetch_versions(client, alias, differing))
            _compare(expected, indexed, result)
    return results


def count_rows(kind):
    """Number of rows of the table of ``kind``."""
    spec = _kind(kind)
    return db.session.execute(select(func.count()).select_from(spec.table)).scalar()

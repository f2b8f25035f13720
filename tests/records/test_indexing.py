# SPDX-License-Identifier: MIT
"""The index queue and the bulk indexing of workflow and task rows."""

import json
import socket
import uuid
from dataclasses import replace

import pytest
from invenio_db import db as invenio_db
from invenio_search import current_search, current_search_client
from invenio_search.engine import search
from sqlalchemy import select, update

from invenio_workflow_records import indexing
from invenio_workflow_records.indexing import (
    bulk_write,
    check,
    drain,
    ensure_indices,
    index_action,
    index_alias,
    reindex,
    task_document,
    workflow_document,
)
from invenio_workflow_records.proxies import current_workflows
from invenio_workflow_records.records import TaskRecord, WorkflowRecord
from invenio_workflow_records.records.models import (
    WorkflowMetadata,
    WorkflowTaskMetadata,
)

WORKFLOW_INDEX = WorkflowRecord.index._name
TASK_INDEX = TaskRecord.index._name


def _workflow(**extra):
    data = {"name": "sums", "status": "running", "run": 1, "owner": {"system": True}}
    data.update(extra)
    return WorkflowRecord.create(data)


def _task(workflow, position, **extra):
    data = {
        "workflow_id": str(workflow.id),
        "name": "tests.mock_module.tasks.add",
        "key": str(position),
        "parents": [],
        "status": "pending",
        "run": 1,
        "attempt": 0,
    }
    data.update(extra)
    return TaskRecord.create(data, position=position)


@pytest.fixture()
def records(db):
    """A workflow with two tasks, the first one at its second revision."""
    workflow = _workflow(
        subject={"type": "record", "id": "abc"},
        task_counts={"pending": 1, "succeeded": 1},
        params={"nested": {"list": [1, "two"]}},
    )
    first = _task(workflow, 0, status="queued")
    second = _task(workflow, 1, parents=[str(first.id)])
    db.session.commit()
    first["status"] = "succeeded"
    first["result"] = {"value": 3}
    first.commit()
    db.session.commit()
    return workflow, [first, second]


def _rows(model_cls):
    """The rows of a table as result rows (no ORM objects)."""
    rows = invenio_db.session.execute(select(model_cls.__table__))
    return {str(row.id): row for row in rows}


def _dirty(model_cls):
    table = model_cls.__table__
    statement = select(table.c.id).where(table.c.index_dirty == True)  # noqa: E712
    return {str(id_) for id_ in invenio_db.session.scalars(statement)}


def _search_versions(alias):
    current_search_client.indices.refresh(index=alias)
    hits = current_search_client.search(
        index=alias, body={"size": 100, "version": True}
    )["hits"]["hits"]
    return {hit["_id"]: hit["_version"] for hit in hits}


def _indexer_document(service, record):
    indexer = getattr(current_workflows, service).indexer
    return indexer._prepare_record(record, indexer.record_to_index(record))


def test_documents_equal_the_indexers(app, records):
    workflow, tasks = records
    expected = _indexer_document("workflows_service", workflow)
    assert expected["task_counts"] == {"pending": 1, "succeeded": 1}
    assert workflow.model.task_counts is None
    assert workflow_document(workflow.model) == expected
    assert workflow_document(_rows(WorkflowMetadata)[str(workflow.id)]) == expected
    task_rows = _rows(WorkflowTaskMetadata)
    for task in tasks:
        expected = _indexer_document("tasks_service", task)
        assert task_document(task.model) == expected
        assert task_document(task_rows[str(task.id)]) == expected
    assert task_document(tasks[0].model)["version_id"] == 2
    assert task_document(tasks[1].model)["position"] == 1


def test_workflow_counts_come_from_the_column(app, db, records):
    workflow, _ = records
    workflow.model.task_counts = {"succeeded": 2}
    db.session.commit()
    document = workflow_document(_rows(WorkflowMetadata)[str(workflow.id)])
    assert document["task_counts"] == {"succeeded": 2}
    expected = _indexer_document("workflows_service", workflow)
    assert {**expected, "task_counts": {"succeeded": 2}} == document
    assert workflow.model.json["task_counts"] == {"pending": 1, "succeeded": 1}


def test_index_actions_are_versioned(app, records):
    workflow, tasks = records
    indexer = app.extensions["invenio-workflow-records"].tasks_service.indexer
    action = index_action("tasks", tasks[0].model)
    assert action["_op_type"] == "index"
    assert action["_index"] == "test-workflows-task-v1.0.0"
    assert action["_id"] == str(tasks[0].id)
    assert action["_version"] == tasks[0].revision_id == 1
    assert action["_version_type"] == indexer._version_type
    workflow.model.index_seq = 7
    action = index_action("workflows", workflow.model)
    assert action["_index"] == index_alias("workflows")
    assert action["_version"] == 7
    with pytest.raises(ValueError):
        index_action("files", workflow.model)


def test_bulk_write_ignores_stale_versions(app, records, search_clear):
    workflow, tasks = records
    actions = [index_action("tasks", task.model) for task in tasks]
    assert bulk_write(actions) == (2, [])
    old = index_action("tasks", tasks[0].model)
    old["_version"] = 0
    broken = index_action("tasks", tasks[1].model)
    broken["_source"]["colour"] = "red"  # not in the strict mapping
    written, failures = bulk_write([old, broken])
    assert written == 0
    assert [item["index"]["_id"] for item in failures] == [str(tasks[1].id)]
    assert failures[0]["index"]["status"] == 400


def test_drain_indexes_the_queue_and_clears_it(app, db, records, search_clear):
    workflow, tasks = records
    assert _dirty(WorkflowMetadata) == {str(workflow.id)}
    assert _dirty(WorkflowTaskMetadata) == {str(task.id) for task in tasks}

    result = drain()
    assert (result.indexed, result.failures, result.rounds) == (3, 0, 1)
    assert not result.unreachable
    assert _dirty(WorkflowMetadata) == _dirty(WorkflowTaskMetadata) == set()
    seq = workflow.model.index_seq
    assert _search_versions(index_alias("workflows")) == {str(workflow.id): seq}
    assert _search_versions(index_alias("tasks")) == {
        str(task.id): task.revision_id for task in tasks
    }
    assert drain().rounds == 0  # nothing queued


def test_drain_keeps_rows_changed_during_the_bulk(app, db, records, monkeypatch):
    workflow, tasks = records
    real_bulk_write = indexing.bulk_write
    calls = []

    def bulk_write_meanwhile(actions, **kwargs):
        # A worker writes a workflow and a task while the cluster works.
        calls.append(kwargs)
        if len(calls) == 1:
            table = WorkflowMetadata.__table__
            db.session.execute(
                update(table)
                .where(table.c.id == workflow.id)
                .values(index_seq=table.c.index_seq + 1)
            )
            table = WorkflowTaskMetadata.__table__
            db.session.execute(
                update(table)
                .where(table.c.id == tasks[1].id)
                .values(version_id=table.c.version_id + 1)
            )
            db.session.commit()
        return real_bulk_write(actions, **kwargs)

    monkeypatch.setattr(indexing, "bulk_write", bulk_write_meanwhile)
    result = drain()
    assert (result.indexed, result.failures) == (3, 0)
    assert _dirty(WorkflowMetadata) == {str(workflow.id)}
    assert _dirty(WorkflowTaskMetadata) == {str(tasks[1].id)}

    # The next drain indexes the new versions.
    assert drain().indexed == 2
    assert _dirty(WorkflowMetadata) == _dirty(WorkflowTaskMetadata) == set()
    versions = _search_versions(index_alias("tasks"))
    assert versions[str(tasks[1].id)] == 1


def test_drain_rounds_go_on_while_full(app, db, records):
    workflow, tasks = records
    for position in range(2, 7):
        _task(workflow, position)
    db.session.commit()
    result = drain(limit=2)
    assert result.indexed == 8
    assert result.rounds == 4
    assert _dirty(WorkflowTaskMetadata) == set()
    assert drain(limit=2, max_rounds=1).rounds == 0


def test_drain_without_the_cluster_keeps_the_queue(app, db, records, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = search.OpenSearch([{"host": "127.0.0.1", "port": port}], max_retries=0)
    with monkeypatch.context() as patch:
        patch.setattr(current_search._get_current_object(), "_client", closed)
        result = drain()
    assert result.unreachable
    assert result.indexed == 0
    assert len(_dirty(WorkflowTaskMetadata)) == 2
    assert len(_dirty(WorkflowMetadata)) == 1


def test_drain_drops_documents_the_cluster_refuses(app, db, records, monkeypatch):
    workflow, tasks = records
    real_task_document = indexing.task_document

    def task_document_with_unknown_field(row):
        document = real_task_document(row)
        if str(row.id) == str(tasks[0].id):
            document["colour"] = "red"
        return document

    spec = replace(indexing._KINDS["tasks"], document=task_document_with_unknown_field)
    monkeypatch.setitem(indexing._KINDS, "tasks", spec)
    result = drain()
    assert (result.indexed, result.failures) == (2, 1)
    # Refused as malformed, it would be refused again: it leaves the queue.
    assert _dirty(WorkflowTaskMetadata) == set()
    assert str(tasks[0].id) not in _search_versions(index_alias("tasks"))


def _live_mapping(alias):
    ((body,),) = [current_search_client.indices.get_mapping(index=alias).values()]
    return body["mappings"]


def test_ensure_indices_replaces_a_dynamic_index(app, db, records, search_clear):
    workflow, _ = records
    alias = index_alias("workflows")
    assert ensure_indices() == {
        "workflows": ("kept", None),
        "tasks": ("kept", None),
    }

    # The index is deleted, then a document is written: the cluster creates
    # an index of that name with a mapping guessed from the document.
    list(current_search.delete(ignore=[404], index_list=[WORKFLOW_INDEX]))
    current_search_client.index(
        index=alias, id=str(workflow.id), body={"name": "sums", "run": 1}
    )
    assert _live_mapping(alias).get("dynamic") != "strict"

    done = ensure_indices()
    assert done["workflows"][0] == "recreated"
    assert "dynamic" in done["workflows"][1]
    assert done["tasks"] == ("kept", None)
    assert _live_mapping(alias)["dynamic"] == "strict"
    assert current_search_client.count(index=alias)["count"] == 0
    # With its aliases: the group alias reaches both indices again.
    aliases = current_search_client.indices.get_alias(index=alias)
    (index_aliases,) = [body["aliases"] for body in aliases.values()]
    assert "test-workflows" in index_aliases

    list(current_search.delete(ignore=[404], index_list=[TASK_INDEX]))
    assert ensure_indices(["tasks"]) == {"tasks": ("created", "missing")}
    assert ensure_indices(["tasks"], recreate=True) == {"tasks": ("recreated", "asked")}


def test_ensure_indices_adds_new_fields_in_place(app, db, records, search_clear):
    alias = index_alias("tasks")
    with open(current_search.mappings[TASK_INDEX]) as handle:
        body = json.load(handle)
    del body["mappings"]["properties"]["worker"]
    del body["mappings"]["properties"]["progress"]
    list(current_search.delete(ignore=[404], index_list=[TASK_INDEX]))
    current_search_client.indices.create(index=f"{alias}-old", body=body)
    current_search_client.indices.put_alias(index=f"{alias}-old", name=alias)
    drain()

    done = ensure_indices(["tasks"])
    assert done == {"tasks": ("updated", "new fields: progress, worker")}
    properties = _live_mapping(alias)["properties"]
    assert {"worker", "progress"} <= set(properties)
    current_search_client.indices.refresh(index=alias)
    assert current_search_client.count(index=alias)["count"] == 2
    assert ensure_indices(["tasks"]) == {"tasks": ("kept", None)}


def test_reindex_restores_deleted_indices(app, db, records, search_clear):
    workflow, tasks = records
    list(current_search.delete(ignore=[404], index_list=[WORKFLOW_INDEX]))
    list(current_search.delete(ignore=[404], index_list=[TASK_INDEX]))
    done = ensure_indices()
    assert done == {
        "workflows": ("created", "missing"),
        "tasks": ("created", "missing"),
    }
    current_search_client.indices.put_settings(
        index=index_alias("tasks"), body={"index": {"refresh_interval": "7s"}}
    )
    # As an interrupted reindex leaves it: the default comes back.
    current_search_client.indices.put_settings(
        index=index_alias("workflows"), body={"index": {"refresh_interval": "-1"}}
    )
    progress = []

    results = reindex(on_progress=lambda kind, rows: progress.append((kind, rows)))
    assert progress == [("workflows", 1), ("tasks", 2)]
    assert (results["workflows"].rows, results["workflows"].written) == (1, 1)
    assert (results["tasks"].sent, results["tasks"].written) == (2, 2)
    assert results["tasks"].failures == []
    # Searchable at once, and the refresh interval is back.
    assert current_search_client.count(index=index_alias("tasks"))["count"] == 2
    assert _search_versions(index_alias("workflows")) == {
        str(workflow.id): workflow.model.index_seq
    }
    assert _search_versions(index_alias("tasks")) == {
        str(task.id): task.revision_id for task in tasks
    }
    settings = current_search_client.indices.get_settings(
        index=index_alias("tasks"), name="index.refresh_interval", flat_settings=True
    )
    ((body,),) = [settings.values()]
    assert body["settings"]["index.refresh_interval"] == "7s"
    settings = current_search_client.indices.get_settings(
        index=index_alias("workflows"), flat_settings=True
    )
    ((body,),) = [settings.values()]
    assert "index.refresh_interval" not in body["settings"]
    assert _dirty(WorkflowMetadata) == _dirty(WorkflowTaskMetadata) == set()


def test_reindex_keeps_newer_documents(app, db, records, search_clear):
    workflow, tasks = records
    ahead = index_action("tasks", tasks[0].model)
    ahead["_version"] += 5
    ahead["_source"]["message"] = "from a newer revision"
    behind = index_action("tasks", tasks[1].model)
    behind["_source"]["message"] = "from an older revision"
    search.helpers.bulk(current_search_client, [ahead, behind])

    results = reindex(["tasks"], chunk_size=1)
    assert (results["tasks"].sent, results["tasks"].written) == (2, 1)
    assert results["tasks"].stale == 1
    alias = index_alias("tasks")
    kept = current_search_client.get(index=alias, id=str(tasks[0].id))
    assert kept["_source"]["message"] == "from a newer revision"
    fixed = current_search_client.get(index=alias, id=str(tasks[1].id))
    assert fixed["_version"] == tasks[1].revision_id
    assert "message" not in fixed["_source"]
    assert _dirty(WorkflowTaskMetadata) == set()
    assert _dirty(WorkflowMetadata) == {str(workflow.id)}


def _lose_flag(model_cls, record, **values):
    """A write whose index flag was lost: the index does not follow."""
    table = model_cls.__table__
    invenio_db.session.execute(
        update(table).where(table.c.id == record.id).values(index_dirty=False, **values)
    )
    invenio_db.session.commit()


def test_check_reports_missing_stale_and_extra(app, db, records, search_clear):
    workflow, tasks = records
    drain()
    results = check()
    assert all(result.ok for result in results.values())
    assert (results["tasks"].rows, results["tasks"].documents) == (2, 2)

    lost = _task(workflow, 2)
    db.session.commit()
    _lose_flag(WorkflowTaskMetadata, lost)
    table = WorkflowMetadata.__table__
    _lose_flag(WorkflowMetadata, workflow, index_seq=table.c.index_seq + 1)
    extra = index_action("tasks", tasks[1].model)
    extra["_id"] = extra_id = str(uuid.uuid4())
    search.helpers.bulk(current_search_client, [extra])
    # A queued row is not a difference: the next drain indexes it.
    queued = _task(workflow, 3)
    db.session.commit()

    results = check()
    seq = db.session.get(WorkflowMetadata, workflow.id).index_seq
    assert not results["workflows"].ok
    assert results["workflows"].stale == [(str(workflow.id), seq, seq - 1)]
    assert results["workflows"].missing == results["workflows"].extra == []
    assert not results["tasks"].ok
    assert results["tasks"].missing == [str(lost.id)]
    assert results["tasks"].extra == [extra_id]
    assert results["tasks"].stale == []
    assert results["tasks"].queued == 1
    assert (results["tasks"].rows, results["tasks"].documents) == (4, 3)

    drain()
    assert _search_versions(index_alias("tasks"))[str(queued.id)] == 0
    current_search_client.delete(index=index_alias("tasks"), id=extra_id)
    assert check(["tasks"])["tasks"].missing == [str(lost.id)]
    reindex()
    results = check()
    assert all(result.ok for result in results.values()), results


def test_check_rereads_what_changed_during_the_scan(app, db, records, monkeypatch):
    workflow, tasks = records
    drain()
    real_indexed_versions = indexing._indexed_versions

    def indexed_versions_meanwhile(client, alias):
        # A worker writes the workflow and a drain indexes it after the
        # check read the table, before it scans the index.
        if alias == index_alias("workflows"):
            table = WorkflowMetadata.__table__
            _lose_flag(WorkflowMetadata, workflow, index_seq=table.c.index_seq + 1)
            row = _rows(WorkflowMetadata)[str(workflow.id)]
            search.helpers.bulk(client, [index_action("workflows", row)])
            client.indices.refresh(index=alias)
        return real_indexed_versions(client, alias)

    monkeypatch.setattr(indexing, "_indexed_versions", indexed_versions_meanwhile)
    rereads = []
    real_expected_versions = indexing._expected_versions
    monkeypatch.setattr(
        indexing,
        "_expected_versions",
        lambda spec, ids=None: rereads.append(ids) or real_expected_versions(spec, ids),
    )
    results = check()
    assert all(result.ok for result in results.values()), results
    assert rereads == [None, [str(workflow.id)], None]


def test_check_without_an_index(app, db, records, search_clear):
    workflow, tasks = records
    drain()
    list(current_search.delete(ignore=[404], index_list=[TASK_INDEX]))
    results = check(["tasks"])
    assert not results["tasks"].index_exists
    assert not results["tasks"].ok
    assert sorted(results["tasks"].missing) == sorted(str(task.id) for task in tasks)

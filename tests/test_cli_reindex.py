# SPDX-License-Identifier: MIT
"""``invenio workflows reindex`` and ``invenio workflows check``."""

import re
import socket
import uuid
from dataclasses import replace

import pytest
from invenio_db import db as invenio_db
from invenio_search import current_search, current_search_client
from invenio_search.engine import search
from sqlalchemy import select, update

from invenio_workflow_records import indexing
from invenio_workflow_records.cli import workflows
from invenio_workflow_records.indexing import index_action, index_alias
from invenio_workflow_records.records import TaskRecord, WorkflowRecord
from invenio_workflow_records.records.models import (
    WorkflowMetadata,
    WorkflowTaskMetadata,
)

WORKFLOW_INDEX = WorkflowRecord.index._name
TASK_INDEX = TaskRecord.index._name
SUMMARY = re.compile(
    r"^Indexed (\d+) workflows and (\d+) tasks in [\d.]+ s \(\d+ records/s\)$",
    re.M,
)


@pytest.fixture()
def cli(app, db, search_clear):
    """Run ``invenio workflows ARGS...`` in the test application."""
    runner = app.test_cli_runner()

    def _invoke(*args):
        return runner.invoke(workflows, [str(arg) for arg in args])

    return _invoke


def ok(result):
    """Assert success; return the standard output."""
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def assert_error(result, *words):
    """A one-line ``Error: ...`` on stderr, exit status 1, no traceback."""
    assert result.exit_code == 1, (result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: "), lines
    for word in words:
        assert word in lines[-1]
    return lines[-1]


@pytest.fixture()
def three_workflows(db):
    """Three workflows of three tasks each, through the records API."""
    workflows = []
    for number in range(3):
        workflow = WorkflowRecord.create(
            {
                "name": "sums",
                "status": "succeeded",
                "run": 1,
                "owner": {"system": True},
                "task_counts": {"succeeded": 3},
            }
        )
        for position in range(3):
            TaskRecord.create(
                {
                    "workflow_id": str(workflow.id),
                    "name": "tests.mock_module.tasks.add",
                    "key": str(position),
                    "parents": [],
                    "status": "succeeded",
                    "run": 1,
                    "attempt": 1,
                    "result": number + position,
                },
                position=position,
            )
        workflows.append(workflow)
    db.session.commit()
    return workflows


def _delete_indices(*names):
    list(current_search.delete(ignore=[404], index_list=list(names)))


def _count(kind):
    return current_search_client.count(index=index_alias(kind))["count"]


def _dirty(model_cls):
    table = model_cls.__table__
    statement = select(table.c.id).where(table.c.index_dirty == True)  # noqa: E712
    return set(invenio_db.session.scalars(statement))


def _count_bulk_requests(monkeypatch):
    """Documents per bulk request, by index, as the client sends them."""
    client = current_search_client._get_current_object()
    real_bulk = client.bulk
    requests = []

    def counting_bulk(body, *args, **kwargs):
        lines = [line for line in body.splitlines() if line]
        index = re.search(r'"_index":"([^"]+)"', lines[0]).group(1)
        requests.append((index, len(lines) // 2))
        return real_bulk(body, *args, **kwargs)

    monkeypatch.setattr(client, "bulk", counting_bulk)
    return requests


def test_reindex_rebuilds_deleted_indices(cli, three_workflows, monkeypatch):
    _delete_indices(WORKFLOW_INDEX, TASK_INDEX)
    requests = _count_bulk_requests(monkeypatch)

    result = cli("reindex", "--batch-size", "2")
    out = ok(result)
    assert SUMMARY.search(out).groups() == ("3", "9")
    assert "Created the missing workflows index." in result.stderr
    assert "Created the missing tasks index." in result.stderr
    # One bulk request per batch of at most 2 documents (sent concurrently).
    workflows_alias, tasks_alias = index_alias("workflows"), index_alias("tasks")
    sizes = sorted(n for index, n in requests if index == workflows_alias)
    assert sizes == [1, 2]
    sizes = sorted(n for index, n in requests if index == tasks_alias)
    assert sizes == [1, 2, 2, 2, 2]

    assert (_count("workflows"), _count("tasks")) == (3, 9)
    # The group alias is back as well.
    assert current_search_client.count(index="test-workflows")["count"] == 12
    hits = current_search_client.search(
        index=tasks_alias, body={"size": 100, "version": True}
    )["hits"]["hits"]
    assert len(hits) == 9
    for hit in hits:
        row = invenio_db.session.get(WorkflowTaskMetadata, hit["_id"])
        assert hit["_version"] == row.version_id - 1
        assert hit["_source"]["result"] == row.json["result"]
    assert _dirty(WorkflowMetadata) == _dirty(WorkflowTaskMetadata) == set()


def test_reindex_replaces_an_index_with_a_dynamic_mapping(cli, three_workflows):
    alias = index_alias("workflows")
    _delete_indices(WORKFLOW_INDEX)
    current_search_client.index(index=alias, id="x", body={"name": "sums"})

    result = cli("reindex", "--no-tasks")
    assert SUMMARY.search(ok(result)).groups() == ("3", "0")
    assert "Recreated the workflows index" in result.stderr
    assert "dynamic mapping" in result.stderr
    ((body,),) = [current_search_client.indices.get_mapping(index=alias).values()]
    assert body["mappings"]["dynamic"] == "strict"
    assert _count("workflows") == 3

    result = cli("reindex", "--no-workflows", "--recreate")
    assert SUMMARY.search(ok(result)).groups() == ("0", "9")
    assert "Recreated the tasks index (asked)." in result.stderr
    assert "workflows index" not in result.stderr


def test_reindex_only_what_is_asked(cli, three_workflows):
    _delete_indices(WORKFLOW_INDEX, TASK_INDEX)
    out = ok(cli("reindex", "--no-tasks"))
    assert SUMMARY.search(out).groups() == ("3", "0")
    assert _count("workflows") == 3
    assert not current_search_client.indices.exists(index=index_alias("tasks"))

    out = ok(cli("reindex", "--no-workflows"))
    assert SUMMARY.search(out).groups() == ("0", "9")
    assert _count("tasks") == 9

    result = cli("reindex", "--no-workflows", "--no-tasks")
    assert result.exit_code == 2
    assert "Nothing to do" in result.output
    assert "Traceback" not in result.output


def test_reindex_keeps_newer_documents(cli, three_workflows):
    newer, older = three_workflows[:2]
    ahead = index_action("workflows", newer.model)
    ahead["_version"] += 5
    ahead["_source"]["message"] = "from a newer write"
    behind = index_action("workflows", older.model)
    behind["_source"]["message"] = "from an older write"
    search.helpers.bulk(current_search_client, [ahead, behind])

    result = cli("reindex", "--no-tasks")
    assert SUMMARY.search(ok(result)).groups() == ("2", "0")
    assert "1 documents were not written" in result.stderr

    alias = index_alias("workflows")
    kept = current_search_client.get(index=alias, id=str(newer.id))
    assert kept["_version"] == newer.model.index_seq + 5
    assert kept["_source"]["message"] == "from a newer write"
    fixed = current_search_client.get(index=alias, id=str(older.id))
    assert fixed["_version"] == older.model.index_seq
    assert "message" not in fixed["_source"]


def test_reindex_reports_refused_documents(cli, three_workflows, monkeypatch):
    def with_unknown_field(row):
        return {**indexing.workflow_document(row), "colour": "red"}

    spec = replace(indexing._KINDS["workflows"], document=with_unknown_field)
    monkeypatch.setitem(indexing._KINDS, "workflows", spec)
    result = cli("reindex", "--no-tasks")
    assert SUMMARY.search(result.stdout).groups() == ("0", "0")
    assert_error(result, "3 documents failed to index", "400")


def _lose_flag(model_cls, record_id, **values):
    """A write whose index flag was lost: the index does not follow."""
    table = model_cls.__table__
    invenio_db.session.execute(
        update(table).where(table.c.id == record_id).values(index_dirty=False, **values)
    )
    invenio_db.session.commit()


def test_check(cli, three_workflows):
    ok(cli("reindex"))
    out = ok(cli("check"))
    assert out.splitlines() == [
        "workflows: 3 records, 3 documents: 0 missing, 0 stale, 0 extra",
        "tasks: 9 records, 9 documents: 0 missing, 0 stale, 0 extra",
    ]

    workflow = three_workflows[0]
    table = WorkflowMetadata.__table__
    _lose_flag(WorkflowMetadata, workflow.id, index_seq=table.c.index_seq + 1)
    seq = invenio_db.session.get(WorkflowMetadata, workflow.id).index_seq
    task = TaskRecord.create(
        {
            "workflow_id": str(workflow.id),
            "name": "t",
            "key": "3",
            "parents": [],
            "status": "pending",
            "run": 1,
            "attempt": 0,
        },
        position=3,
    )
    invenio_db.session.commit()
    _lose_flag(WorkflowTaskMetadata, task.id)

    result = cli("check")
    assert_error(result, "differ", "invenio workflows reindex")
    assert result.stdout.splitlines() == [
        "workflows: 3 records, 3 documents: 0 missing, 1 stale, 0 extra",
        f"  stale   {workflow.id} (indexed version {seq - 1}, expected {seq})",
        "tasks: 10 records, 9 documents: 1 missing, 0 stale, 0 extra",
        f"  missing {task.id}",
    ]
    result = cli("check", "--no-workflows")
    assert_error(result)
    assert "workflows" not in result.stdout

    ok(cli("reindex"))
    ok(cli("check"))

    # A document without a record goes only with its index.
    extra = index_action("tasks", task.model)
    extra["_id"] = extra_id = str(uuid.uuid4())
    search.helpers.bulk(current_search_client, [extra])
    result = cli("check", "--no-workflows")
    assert_error(result, "`invenio workflows reindex --recreate`")
    assert f"  extra   {extra_id}" in result.stdout.splitlines()
    ok(cli("reindex", "--recreate"))
    ok(cli("check"))


def test_check_without_the_cluster(cli, three_workflows, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = search.OpenSearch([{"host": "127.0.0.1", "port": port}], max_retries=0)
    with monkeypatch.context() as patch:
        patch.setattr(current_search._get_current_object(), "_client", closed)
        result = cli("check")
    assert_error(result, "Cannot reach the search cluster")
    assert len(result.stderr.strip().splitlines()) == 1

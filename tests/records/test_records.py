# SPDX-License-Identifier: MIT
"""Workflow and task records: schema, revisions, lookup columns, index documents."""

import uuid

import pytest
from invenio_search import current_search, current_search_client
from jsonschema.exceptions import ValidationError

from invenio_workflow_records.records import TaskRecord, WorkflowRecord


def _workflow(**extra):
    data = {"name": "sums", "status": "created", "run": 0, "owner": {"system": True}}
    data.update(extra)
    return WorkflowRecord.create(data)


def test_workflow_record_fills_lookup_columns(db):
    workflow = _workflow(idempotency_key="k-1")
    db.session.commit()
    assert workflow.model.name == "sums"
    assert workflow.model.idempotency_key == "k-1"
    assert workflow["$schema"] == "local://workflows/workflow-v1.0.0.json"


def test_schema_rejects_unknown_status_and_fields(db):
    with pytest.raises(ValidationError):
        _workflow(status="exploded")
    with pytest.raises(ValidationError):
        _workflow(colour="red")


def test_every_save_is_a_revision(db):
    workflow = _workflow()
    db.session.commit()
    task = TaskRecord.create(
        {
            "workflow_id": str(workflow.id),
            "name": "tests.mock_module.tasks.add",
            "key": "0",
            "parents": [],
            "status": "pending",
            "run": 0,
            "attempt": 0,
        },
        position=0,
    )
    db.session.commit()
    for status in ("queued", "running"):
        task["status"] = status
        task.commit()
        db.session.commit()
    revisions = [rev["status"] for rev in task.revisions]
    assert revisions == ["pending", "queued", "running"]
    assert task.model.workflow_id == workflow.id
    assert [t.id for t in TaskRecord.get_workflow_tasks(workflow.id)] == [task.id]


def test_tasks_keep_their_plan_order(db):
    workflow = _workflow()
    db.session.commit()
    for position in (2, 0, 1):
        TaskRecord.create(
            {
                "workflow_id": str(workflow.id),
                "name": "t",
                "key": str(position),
                "parents": [],
                "status": "pending",
                "run": 0,
                "attempt": 0,
            },
            position=position,
        )
    db.session.commit()
    tasks = TaskRecord.get_workflow_tasks(workflow.id)
    assert [t.position for t in tasks] == [0, 1, 2]
    assert [t["key"] for t in tasks] == ["0", "1", "2"]


def test_resolve_unknown_or_malformed_id(db):
    from invenio_pidstore.errors import PIDDoesNotExistError

    for value in (str(uuid.uuid4()), "not-a-uuid", ""):
        with pytest.raises(PIDDoesNotExistError):
            WorkflowRecord.pid.resolve(value)


def test_index_document_matches_the_strict_mapping(app, db, search_clear):
    workflow = _workflow(
        subject={"type": "record", "id": "abc"},
        task_counts={"pending": 2},
        params={"anything": {"nested": [1, "two"]}},
    )
    db.session.commit()
    indexer = app.extensions["invenio-workflow-records"].workflows_service.indexer
    indexer.index(workflow)
    current_search.flush_and_refresh("workflows")
    doc = current_search_client.get(
        index=indexer._prepare_index(indexer.record_to_index(workflow)),
        id=str(workflow.id),
    )["_source"]
    assert doc["id"] == str(workflow.id)
    assert doc["subject"] == {"type": "record", "id": "abc"}
    assert doc["params"] == {"anything": {"nested": [1, "two"]}}


def test_task_result_of_any_json_type_is_indexed(app, db, search_clear):
    workflow = _workflow()
    db.session.commit()
    indexer = app.extensions["invenio-workflow-records"].tasks_service.indexer
    for position, result in enumerate(["text", [1, 2], {"a": 1}, 3, None]):
        task = TaskRecord.create(
            {
                "workflow_id": str(workflow.id),
                "name": "t",
                "key": str(position),
                "parents": [],
                "status": "succeeded",
                "run": 1,
                "attempt": 1,
                "result": result,
            },
            position=position,
        )
        db.session.commit()
        indexer.index(task)
    current_search.flush_and_refresh("workflows")
    assert current_search_client.count(index="test-workflows-task-v1.0.0")["count"] == 5

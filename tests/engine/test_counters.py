# SPDX-License-Identifier: MIT
"""The workflow's live counters always equal a recount of its tasks."""

import pytest
from invenio_access.permissions import system_identity
from invenio_records_resources.services.uow import UnitOfWork

from invenio_workflow_records.engine import dispatch, runner, store
from invenio_workflow_records.records import TaskRecord, WorkflowRecord


def counters(workflow_id):
    """The live counters of the workflow row."""
    model = WorkflowRecord.model_cls.query.filter_by(id=workflow_id).one()
    return {k: v for k, v in sorted((model.task_counts or {}).items()) if v}


def assert_counts_match(workflow_id):
    """Counters equal a recount, and every pending task's parent count is right."""
    assert counters(workflow_id) == store.count_statuses(workflow_id)
    tasks = {str(t.id): t for t in TaskRecord.get_workflow_tasks(workflow_id)}
    for task in tasks.values():
        assert task.model.status == task["status"]
        if task["status"] == "pending":
            waiting = sum(
                1 for p in task["parents"] if tasks[p]["status"] != "succeeded"
            )
            assert task.model.pending_parents == waiting, task["key"]


@pytest.fixture()
def held_messages(monkeypatch):
    """Keep task messages instead of sending them (nothing runs)."""
    held = []
    monkeypatch.setattr(dispatch, "send_message", lambda *msg: held.append(msg))
    return held


def test_counters_through_a_run_and_a_failure(create_workflow, workflows_service):
    ok = create_workflow(start=True)
    assert counters(ok.id) == {"succeeded": 4}
    assert_counts_match(ok.id)
    failed = create_workflow(name="failing", params={}, start=True)
    assert counters(failed.id) == {"failed": 1, "skipped": 1, "succeeded": 1}
    assert_counts_match(failed.id)


def test_counters_after_resume_restart_and_task_restart(
    create_workflow, workflows_service, tasks_service
):
    item = create_workflow(name="failing", params={}, start=True)
    workflows_service.resume(system_identity, item.id)
    assert_counts_match(item.id)
    workflows_service.restart(system_identity, item.id)
    assert_counts_match(item.id)
    first = TaskRecord.get_workflow_tasks(item.id)[0]
    tasks_service.restart(system_identity, item.id, first.id, {"downstream": True})
    assert_counts_match(item.id)
    tasks_service.restart(system_identity, item.id, first.id, {"downstream": False})
    assert_counts_match(item.id)
    # The old failure message went with the restart; no task failed since.
    assert "message" not in WorkflowRecord.get_record(item.id)


def test_counters_after_stop_and_task_stop(
    create_workflow, workflows_service, tasks_service, held_messages
):
    item = create_workflow(start=True)
    assert counters(item.id) == {"pending": 3, "queued": 1}
    assert_counts_match(item.id)
    root = TaskRecord.get_workflow_tasks(item.id)[0]
    tasks_service.stop(system_identity, item.id, root.id)
    assert counters(item.id) == {"skipped": 3, "stopped": 1}
    assert_counts_match(item.id)

    other = create_workflow(start=True)
    workflows_service.stop(system_identity, other.id)
    assert counters(other.id) == {"stopped": 4}
    assert_counts_match(other.id)


def test_fan_in_child_waits_for_every_parent(create_workflow, held_messages):
    """The collector is queued by the last parent, once, with every result."""
    item = create_workflow(start=True)
    extract, first, second, collect = TaskRecord.get_workflow_tasks(item.id)

    def run(task, result):
        with UnitOfWork() as uow:
            assert runner.task_started(task.id, f"{task.id}:1", "w", 0, uow)
            uow.commit()
        with UnitOfWork() as uow:
            assert runner.task_succeeded(task.id, f"{task.id}:1", result, uow)
            uow.commit()
        assert_counts_match(item.id)

    run(extract, {"pages": 2})
    assert [m[0] for m in held_messages[1:]] == [first["name"], second["name"]]
    run(second, 6)
    collect = TaskRecord.get_record(collect.id)
    assert (collect["status"], collect.model.pending_parents) == ("pending", 1)
    run(first, 3)
    collect = TaskRecord.get_record(collect.id)
    assert collect["status"] == "queued"
    name, args, kwargs, celery_id, _ = held_messages[-1]
    assert (name, args[0], celery_id) == (collect["name"], [3, 6], f"{collect.id}:1")
    assert len(held_messages) == 4


def test_engine_writes_keep_documents_valid(create_workflow):
    """Documents written by the engine (not the records API) pass the schema."""
    item = create_workflow(name="failing", params={}, start=True)
    workflow = WorkflowRecord.get_record(item.id)
    workflow.validate()
    for task in TaskRecord.get_workflow_tasks(item.id):
        task.validate()
        for revision in task.revisions:
            revision.validate()

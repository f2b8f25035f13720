# SPDX-License-Identifier: MIT
"""The engine in Celery's eager mode: results, params, failures, actions."""

import pytest
from invenio_access.permissions import system_identity

from invenio_workflow_records.engine.errors import WorkflowStateError
from invenio_workflow_records.records import TaskRecord, WorkflowRecord


def _tasks(workflow_id):
    return {t["key"]: t for t in TaskRecord.get_workflow_tasks(workflow_id)}


def _workflow(workflow_id):
    return WorkflowRecord.get_record(workflow_id)


def test_chain_group_collect_passes_results(create_workflow, workflows_service):
    item = create_workflow(params={"file_id": "f-9"}, start=True)
    tasks = _tasks(item.id)
    extract, first, second, collect = tasks.values()
    assert extract["result"] == {"file_id": "f-9", "dpi": 300, "pages": 3}
    assert (first["result"], second["result"]) == (3, 6)
    assert collect["result"] == [3, 6]
    assert {t["status"] for t in tasks.values()} == {"succeeded"}
    workflow = _workflow(item.id)
    assert workflow["status"] == "succeeded"
    assert workflow["task_counts"] == {"succeeded": 4}
    assert workflow["run"] == 1
    assert workflow["finished_at"] >= workflow["started_at"]


def test_task_revisions_tell_the_story(create_workflow, workflows_service):
    item = create_workflow(name="sums", params={})
    workflows_service.start(system_identity, item.id)
    for task in TaskRecord.get_workflow_tasks(item.id):
        story = [rev["status"] for rev in task.revisions]
        # A task that waits for its parent is reset into run 1 at the start
        # (one revision) and queued only when its parent succeeded.
        assert story[0] == "pending"
        assert story[-3:] == ["queued", "running", "succeeded"]
        last = list(task.revisions)[-1]
        assert last["queued_at"] <= last["started_at"] <= last["finished_at"]
        assert last["attempt"] == 1
        assert last["celery_id"] == f"{task.id}:1"


def test_params_reach_tasks_with_precedence(create_workflow, workflows_service):
    item = create_workflow(name="params-probe", params={"size": 5})
    workflows_service.start(system_identity, item.id, {"params": {"flag": "run"}})
    tasks = _tasks(item.id)
    root = tasks["0"]["result"]
    assert root["params"] == {"colour": "blue", "size": 5, "flag": "run"}
    assert root["kwargs"] == {"colour": "blue", "size": 5, "flag": "run"}
    assert root["task_record_id"] == str(tasks["0"].id)
    assert root["workflow_id"] == str(item.id)
    child = tasks["1.0"]["result"]
    assert child["kwargs"]["flag"] == "signature"  # signature beats run params
    too_big = tasks["1.1"]
    assert too_big["status"] == "failed"
    assert "WORKFLOWS_RESULT_MAX_BYTES" in too_big["error"]["message"]


def test_failure_skips_downstream(create_workflow):
    item = create_workflow(name="failing", params={}, start=True)
    tasks = _tasks(item.id)
    assert [t["status"] for t in tasks.values()] == ["succeeded", "failed", "skipped"]
    failed = tasks["1"]
    assert failed["error"]["type"] == "ValueError"
    assert failed["error"]["message"] == "boom"
    assert "Traceback" in failed["error"]["traceback"]
    workflow = _workflow(item.id)
    assert workflow["status"] == "failed"
    assert "failed" in workflow["message"]


def test_start_twice_is_refused(create_workflow, workflows_service):
    item = create_workflow(name="sums", params={}, start=True)
    with pytest.raises(WorkflowStateError):
        workflows_service.start(system_identity, item.id)


def test_restart_runs_everything_again(create_workflow, workflows_service):
    item = create_workflow(name="sums", params={}, start=True)
    workflows_service.restart(system_identity, item.id)
    workflow = _workflow(item.id)
    assert workflow["run"] == 2
    assert workflow["status"] == "succeeded"
    for task in _tasks(item.id).values():
        assert task["attempt"] == 2
        assert task["run"] == 2


def test_resume_reruns_only_what_did_not_succeed(create_workflow, workflows_service):
    item = create_workflow(name="failing", params={}, start=True)
    before = _tasks(item.id)
    workflows_service.resume(system_identity, item.id)
    after = _tasks(item.id)
    assert after["0"]["attempt"] == before["0"]["attempt"] == 1
    assert after["1"]["attempt"] == 2
    assert after["1"]["status"] == "failed"
    assert _workflow(item.id)["status"] == "failed"
    with pytest.raises(WorkflowStateError):
        workflows_service.resume(
            system_identity, create_workflow(name="sums", params={}, start=True).id
        )


def test_task_restart_dry_run_and_downstream(create_workflow, tasks_service):
    item = create_workflow(name="sums", params={}, start=True)
    first, second = TaskRecord.get_workflow_tasks(item.id)
    dry = tasks_service.restart(system_identity, item.id, first.id, {"dry_run": True})
    assert dry["tasks"] == [str(first.id), str(second.id)]
    assert _tasks(item.id)["0"]["attempt"] == 1

    tasks_service.restart(system_identity, item.id, first.id, {"downstream": False})
    tasks = _tasks(item.id)
    assert (tasks["0"]["attempt"], tasks["1"]["attempt"]) == (2, 1)

    tasks_service.restart(system_identity, item.id, second.id, {"params": {"y": 100}})
    tasks = _tasks(item.id)
    assert tasks["1"]["attempt"] == 2
    assert tasks["1"]["result"] == 10 + 3  # the signature's y=10 binds positionally
    story = [
        (rev["attempt"], rev["status"])
        for rev in TaskRecord.get_record(first.id).revisions
    ]
    assert story == [
        (1, "queued"),
        (1, "running"),
        (1, "succeeded"),
        (2, "queued"),
        (2, "running"),
        (2, "succeeded"),
    ]


def test_stale_attempt_does_not_run_or_change_the_record(create_workflow, app):
    item = create_workflow(name="sums", params={}, start=True)
    task = _tasks(item.id)["0"]
    revisions = len(list(task.revisions))
    stale = f"{task.id}:0"
    app.extensions["flask-celeryext"].celery.tasks[task["name"]].apply(
        args=(1, 2), task_id=stale
    )
    task = TaskRecord.get_record(task.id)
    assert len(list(task.revisions)) == revisions
    assert task["attempt"] == 1


def test_redelivered_succeeded_attempt_does_not_run_again(create_workflow, app):
    item = create_workflow(name="sums", params={}, start=True)
    task = _tasks(item.id)["0"]
    revisions = len(list(task.revisions))
    app.extensions["flask-celeryext"].celery.tasks[task["name"]].apply(
        args=(1, 2), task_id=task["celery_id"]
    )
    assert len(list(TaskRecord.get_record(task.id).revisions)) == revisions


def test_stop_task_skips_downstream_and_stop_needs_running(
    create_workflow, tasks_service, workflows_service
):
    item = create_workflow(name="sums", params={})
    with pytest.raises(WorkflowStateError):
        workflows_service.stop(system_identity, item.id)
    first = TaskRecord.get_workflow_tasks(item.id)[0]
    tasks_service.stop(system_identity, item.id, first.id)
    tasks = _tasks(item.id)
    assert (tasks["0"]["status"], tasks["1"]["status"]) == ("stopped", "skipped")
    with pytest.raises(WorkflowStateError):
        tasks_service.stop(system_identity, item.id, first.id)


def test_workflow_class_status_override(create_workflow):
    item = create_workflow(name="first-result-wins", params={}, start=True)
    tasks = _tasks(item.id)
    assert [t["status"] for t in tasks.values()] == ["succeeded", "failed"]
    assert _workflow(item.id)["status"] == "succeeded"


def test_read_counts_tasks_live(create_workflow, workflows_service, tasks_service):
    item = create_workflow(name="sums", params={})
    first = TaskRecord.get_workflow_tasks(item.id)[0]
    tasks_service.stop(system_identity, item.id, first.id)
    counts = workflows_service.read(system_identity, item.id).to_dict()["task_counts"]
    assert counts == {"skipped": 1, "stopped": 1}


def test_progress_is_stored_and_throttled(create_workflow):
    item = create_workflow(name="progress", params={}, start=True)
    task = _tasks(item.id)["0"]
    assert task["status"] == "succeeded"
    assert task["progress"] == {"current": 1, "total": 3, "message": "page"}
    statuses = [rev["status"] for rev in task.revisions]
    # One progress revision while running: the next two came too soon.
    assert statuses.count("running") == 2

# SPDX-License-Identifier: MIT
"""Workflows run by a real Celery worker on Redis, with the test's database.

Each test drives the services as a user would (start, stop, restart, resume,
task actions) and waits for what the worker commits.
"""

import threading

import psutil
import pytest
from flask import current_app
from invenio_access.permissions import system_identity
from invenio_db import db

from invenio_workflow_records.engine.errors import WorkflowStateError
from invenio_workflow_records.records import TaskRecord, WorkflowRecord

pytestmark = pytest.mark.integration


def tasks_of(workflow_id):
    """The workflow's task records by key."""
    return {t["key"]: t for t in TaskRecord.get_workflow_tasks(workflow_id)}


def status_of(workflow_id):
    """The workflow's status as stored."""
    return WorkflowRecord.get_record(workflow_id)["status"]


@pytest.fixture()
def finished(wait_for):
    """Wait until a workflow reaches one of ``statuses`` and return its tasks."""

    def _finished(workflow_id, *statuses, timeout=60):
        statuses = statuses or ("succeeded",)
        wait_for(
            lambda: status_of(workflow_id) in statuses,
            timeout=timeout,
            what=f"workflow {workflow_id} {'/'.join(statuses)}",
        )
        return tasks_of(workflow_id)

    return _finished


def story(task):
    """``(attempt, status)`` of every revision of a task."""
    return [(rev["attempt"], rev["status"]) for rev in task.revisions]


def test_chain_passes_results_and_revisions_tell_the_story(
    celery_worker_process, create_workflow, finished
):
    item = create_workflow(name="it-arithmetic", params={}, start=True)
    tasks = finished(item.id)
    assert [t["result"] for t in tasks.values()] == [5, 20, 21]
    for task in tasks.values():
        assert story(task)[-3:] == [(1, "queued"), (1, "running"), (1, "succeeded")]
        last = list(task.revisions)[-1]
        assert last["queued_at"] <= last["started_at"] <= last["finished_at"]
        assert last["worker"].startswith("wf-test")
    workflow = WorkflowRecord.get_record(item.id)
    assert workflow["task_counts"] == {"succeeded": 3}
    assert [rev["status"] for rev in workflow.revisions] == [
        "running",  # created and started in one transaction
        "succeeded",
    ]


def test_group_results_reach_the_next_task_as_a_list(
    celery_worker_process, create_workflow, finished
):
    item = create_workflow(name="it-fan-in", params={}, start=True)
    assert finished(item.id)["1"]["result"] == [2, 4]


def test_chord(celery_worker_process, create_workflow, finished):
    item = create_workflow(name="it-chord", params={}, start=True)
    tasks = finished(item.id)
    assert tasks["1"]["result"] == [6, 20]
    assert tasks["1"]["parents"] == [str(tasks["0.0"].id), str(tasks["0.1"].id)]


def test_params_reach_tasks(
    celery_worker_process, create_workflow, workflows_service, finished
):
    item = create_workflow(name="it-params", params={"size": 2})
    workflows_service.start(
        system_identity, item.id, {"params": {"marker": "run", "extra": True}}
    )
    tasks = finished(item.id)
    assert tasks["0"]["result"] == {
        "colour": "blue",
        "size": 2,
        "marker": "run",
        "extra": True,
    }
    assert tasks["1"]["result"]["marker"] == "signature"


def test_failing_task_fails_the_workflow_and_skips_downstream(
    celery_worker_process, create_workflow, finished
):
    item = create_workflow(name="it-failing", params={}, start=True)
    tasks = finished(item.id, "failed")
    assert [t["status"] for t in tasks.values()] == ["succeeded", "failed", "skipped"]
    error = tasks["1"]["error"]
    assert (error["type"], error["message"]) == ("ValueError", "boom")
    assert "fail_with" in error["traceback"]
    assert "2" not in {k for k, t in tasks.items() if t.get("started_at")}


def test_autoretry_is_visible_as_retrying_revisions(
    celery_worker_process, create_workflow, finished, tmp_path
):
    attempts = tmp_path / "attempts"
    item = create_workflow(
        name="it-retried",
        params={"x": 7, "attempts_file": str(attempts), "failures": 1},
        start=True,
    )
    tasks = finished(item.id)
    flaky = tasks["0"]
    assert flaky["result"] == {"x": 7, "attempts": 2}
    assert flaky["retries"] == 1
    assert [status for _, status in story(flaky)][-5:] == [
        "queued",
        "running",
        "retrying",
        "running",
        "succeeded",
    ]
    retrying = [rev for rev in flaky.revisions if rev["status"] == "retrying"][0]
    assert retrying["error"]["type"] in ("OSError", "IOError")


def test_stop_during_a_long_task_terminates_it(
    celery_worker_process, create_workflow, workflows_service, wait_for, finished
):
    worker = celery_worker_process
    item = create_workflow(name="it-slow", params={"x": 1, "seconds": 60}, start=True)
    wait_for(lambda: tasks_of(item.id)["0"]["status"] == "running", what="running")
    wait_for(lambda: worker.inspect().active()[worker.nodename], what="active")
    workflows_service.stop(system_identity, item.id)
    tasks = finished(item.id, "stopped", timeout=5)
    assert [t["status"] for t in tasks.values()] == ["stopped", "stopped"]
    # The worker terminates the task within seconds: nothing active anymore.
    wait_for(
        lambda: not worker.inspect().active()[worker.nodename],
        timeout=10,
        what="task terminated",
    )
    tasks = tasks_of(item.id)
    assert "started_at" not in tasks["1"]
    assert tasks["0"]["status"] == "stopped"


def test_task_killed_by_its_time_limit_fails(
    celery_worker_process, create_workflow, finished
):
    item = create_workflow(name="it-killed", params={"x": 1, "seconds": 30}, start=True)
    tasks = finished(item.id, "failed", timeout=30)
    assert tasks["0"]["status"] == "failed"
    assert tasks["0"]["error"]["type"] == "TimeLimitExceeded"
    assert tasks["1"]["status"] == "skipped"


def test_restart_runs_the_whole_workflow_again(
    celery_worker_process, create_workflow, workflows_service, finished, wait_for
):
    item = create_workflow(name="it-arithmetic", params={}, start=True)
    finished(item.id)
    workflows_service.restart(system_identity, item.id)
    wait_for(
        lambda: WorkflowRecord.get_record(item.id)["run"] == 2
        and status_of(item.id) == "succeeded",
        what="run 2 succeeded",
    )
    tasks = tasks_of(item.id)
    assert [(t["run"], t["attempt"]) for t in tasks.values()] == [(2, 2)] * 3
    assert [t["result"] for t in tasks.values()] == [5, 20, 21]
    first = tasks["0"]
    assert [a for a, s in story(first) if s == "succeeded"] == [1, 2]


def test_resume_after_failure_keeps_succeeded_results(
    celery_worker_process, create_workflow, workflows_service, finished, tmp_path
):
    attempts = tmp_path / "attempts"
    item = create_workflow(
        name="it-resume",
        params={"attempts_file": str(attempts), "failures": 10},
        start=True,
    )
    tasks = finished(item.id, "failed")
    assert tasks["0"]["status"] == "succeeded"
    assert tasks["1"]["retries"] == 2
    workflows_service.resume(system_identity, item.id, {"params": {"failures": 0}})
    tasks = finished(item.id)
    assert tasks["0"]["attempt"] == 1  # kept, not run again
    assert tasks["1"]["attempt"] == 2
    assert tasks["1"]["result"] == {"x": 3, "attempts": 4}
    assert WorkflowRecord.get_record(item.id)["params"]["failures"] == 0


def test_task_restart_with_and_without_downstream(
    celery_worker_process, create_workflow, tasks_service, finished, wait_for
):
    item = create_workflow(name="it-arithmetic", params={}, start=True)
    tasks = finished(item.id)
    second = tasks["1"]

    dry = tasks_service.restart(system_identity, item.id, second.id, {"dry_run": True})
    assert dry["tasks"] == [str(second.id), str(tasks["2"].id)]
    assert tasks_of(item.id)["1"]["attempt"] == 1

    tasks_service.restart(system_identity, item.id, second.id, {"downstream": False})
    wait_for(
        lambda: tasks_of(item.id)["1"]["attempt"] == 2
        and tasks_of(item.id)["1"]["status"] == "succeeded",
        what="second task re-run",
    )
    assert tasks_of(item.id)["2"]["attempt"] == 1

    tasks_service.restart(system_identity, item.id, second.id, {"params": {"y": 10}})
    tasks = finished(item.id)
    wait_for(
        lambda: tasks_of(item.id)["2"]["attempt"] == 2
        and tasks_of(item.id)["2"]["status"] == "succeeded",
        what="downstream re-run",
    )
    tasks = tasks_of(item.id)
    assert tasks["1"]["attempt"] == 3
    assert tasks["1"]["result"] == 20  # y is bound by the signature (.s(4))
    assert tasks["2"]["result"] == 21


def test_stale_attempt_message_changes_nothing(
    celery_worker_process, create_workflow, tasks_service, finished, wait_for
):
    worker = celery_worker_process
    item = create_workflow(name="it-arithmetic", params={}, start=True)
    first = finished(item.id)["0"]
    stale_id = first["celery_id"]  # attempt 1
    tasks_service.restart(system_identity, item.id, first.id, {"downstream": False})
    wait_for(
        lambda: tasks_of(item.id)["0"]["attempt"] == 2
        and tasks_of(item.id)["0"]["status"] == "succeeded",
        what="attempt 2",
    )
    before = story(TaskRecord.get_record(first.id))

    db.session.rollback()  # hold no lock while the worker handles the message
    # The message of attempt 1 arrives late (a redelivery, a slow broker).
    celery = current_app.extensions["flask-celeryext"].celery
    celery.tasks[first["name"]].apply_async(args=(100, 100), task_id=stale_id)
    worker.wait_for_log(rf"{stale_id}\] succeeded", timeout=30)
    assert story(TaskRecord.get_record(first.id)) == before
    assert TaskRecord.get_record(first.id)["result"] == 5


def test_two_concurrent_starts_give_one_run(
    celery_worker_process, create_workflow, workflows_service, finished
):
    """Two threads start the same workflow at once: exactly one run."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip(
            "Two threads racing on one SQLite file block on its write lock; "
            "the race is proven on PostgreSQL (row lock on the workflow)."
        )
    item = create_workflow(name="it-arithmetic", params={})
    app = current_app._get_current_object()
    outcomes = []
    barrier = threading.Barrier(2)

    def start():
        with app.app_context():
            barrier.wait()
            try:
                workflows_service.start(system_identity, item.id)
                outcomes.append("started")
            except WorkflowStateError:
                outcomes.append("refused")
            except Exception as error:  # a lost race on SQLite's file lock
                outcomes.append(f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes.count("started") == 1, outcomes
    tasks = finished(item.id)
    workflow = WorkflowRecord.get_record(item.id)
    assert workflow["run"] == 1
    assert [t["attempt"] for t in tasks.values()] == [1, 1, 1]
    assert psutil.pid_exists(celery_worker_process.pid)

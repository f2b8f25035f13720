# SPDX-License-Identifier: MIT
"""The recovery pass finds stranded tasks and repairs them (eager mode)."""

from datetime import timedelta

import pytest
from invenio_records_resources.services.uow import UnitOfWork

from invenio_workflow_records.cli import workflows
from invenio_workflow_records.engine import dispatch, recovery, runner, store
from invenio_workflow_records.records import TaskRecord, WorkflowRecord


def _status(workflow_id):
    return WorkflowRecord.get_record(workflow_id)["status"]


@pytest.fixture()
def broker_down(monkeypatch):
    """Every send fails, as with an unreachable broker; ``up()`` ends it."""

    class Broker:
        down = True
        sent = []

        def up(self):
            self.down = False

    broker = Broker()
    real = dispatch.send_message

    def send(*message):
        if broker.down:
            raise ConnectionError("broker unreachable")
        broker.sent.append(message[3])
        return real(*message)

    monkeypatch.setattr(dispatch, "send_message", send)
    # The test's db session shares one connection: mark unsent in it.
    monkeypatch.setattr(dispatch, "mark_unsent", lambda ids: store.set_sent(ids, None))
    return broker


def test_unsent_task_is_listed_then_sent(create_workflow, broker_down, app):
    item = create_workflow(name="sums", params={}, start=True)
    assert _status(item.id) == "running"  # committed although the send failed
    root = TaskRecord.get_workflow_tasks(item.id)[0]
    assert (root["status"], root.model.sent_at) == ("queued", None)

    runner_cli = app.test_cli_runner()
    dry = runner_cli.invoke(workflows, ["recover", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert str(root.id) in dry.output and "message never sent" in dry.output
    assert "nothing changed" in dry.output
    assert TaskRecord.get_record(root.id).model.sent_at is None

    broker_down.up()
    done = runner_cli.invoke(workflows, ["recover"])
    assert done.exit_code == 0, done.output
    assert "Repaired 1 of 1" in done.output
    assert broker_down.sent == [
        f"{root.id}:1",
        f"{TaskRecord.get_workflow_tasks(item.id)[1].id}:1",
    ]
    assert _status(item.id) == "succeeded"
    assert recovery.find() == []


def _run_until_lost(create_workflow, broker_down, app):
    """A workflow whose root started on a worker that then vanished."""
    item = create_workflow(name="sums", params={}, start=True)
    root = TaskRecord.get_workflow_tasks(item.id)[0]
    with UnitOfWork() as uow:
        assert runner.task_started(root.id, f"{root.id}:1", "gone@host", 0, uow)
        uow.commit()
    expired = store.utcnow() - timedelta(seconds=1)
    store.TASKS  # noqa: B018 (the table, for the update below)
    from invenio_db import db

    db.session.execute(
        store.TASKS.update()
        .where(store.TASKS.c.id == root.id)
        .values(lease_expires_at=expired)
    )
    broker_down.up()
    return item, root


def test_lost_worker_gives_a_new_attempt(create_workflow, broker_down, app):
    item, root = _run_until_lost(create_workflow, broker_down, app)
    report = recovery.recover()
    assert [(f.kind, f.outcome) for f in report.findings] == [
        ("worker-lost", "retried")
    ]
    root = TaskRecord.get_record(root.id)
    assert (root["status"], root["attempt"], root["lost"]) == ("succeeded", 2, 1)
    story = [(r["status"], r["attempt"]) for r in root.revisions]
    assert story[-4:] == [
        ("running", 1),
        ("queued", 2),
        ("running", 2),
        ("succeeded", 2),
    ]
    lost_revision = [r for r in root.revisions if r["status"] == "queued"][-1]
    assert lost_revision["message"].startswith("Worker lost: attempt 1 on gone@host")
    assert _status(item.id) == "succeeded"


def test_lost_worker_fails_when_retries_are_spent(
    create_workflow, broker_down, app, monkeypatch
):
    monkeypatch.setitem(app.config, "WORKFLOWS_WORKER_LOST_RETRIES", 0)
    item, root = _run_until_lost(create_workflow, broker_down, app)
    report = recovery.recover()
    assert [f.outcome for f in report.findings] == ["failed"]
    root = TaskRecord.get_record(root.id)
    assert root["status"] == "failed"
    assert root["error"]["type"] == "WorkerLost"
    assert _status(item.id) == "failed"
    assert TaskRecord.get_workflow_tasks(item.id)[1]["status"] == "skipped"


def test_live_lease_blocks_a_duplicate_message(create_workflow, broker_down):
    item = create_workflow(name="sums", params={}, start=True)
    root = TaskRecord.get_workflow_tasks(item.id)[0]
    with UnitOfWork() as uow:
        assert runner.task_started(root.id, f"{root.id}:1", "a@host", 0, uow)
        uow.commit()
    with UnitOfWork() as uow:
        # A second copy of the same attempt while the first one's lease lives.
        assert runner.task_started(root.id, f"{root.id}:1", "b@host", 0, uow) is None
        uow.commit()
    assert TaskRecord.get_record(root.id)["worker"] == "a@host"
    assert recovery.find() == []


def test_a_message_no_worker_starts_ends_undeliverable(
    create_workflow, app, monkeypatch
):
    """Sent, never started (e.g. undecodable): resent a few times, then failed."""
    from invenio_db import db

    held = []
    monkeypatch.setattr(dispatch, "send_message", lambda *msg: held.append(msg[3]))
    monkeypatch.setitem(app.config, "WORKFLOWS_MAX_RESENDS", 2)
    item = create_workflow(name="sums", params={}, start=True)
    root = TaskRecord.get_workflow_tasks(item.id)[0]

    def overdue():
        db.session.execute(
            store.TASKS.update()
            .where(store.TASKS.c.id == root.id)
            .values(sent_at=store.utcnow() - timedelta(hours=1))
        )

    for resends in (1, 2):
        overdue()
        assert [f.outcome for f in recovery.recover().findings] == ["sent"]
        task = TaskRecord.get_record(root.id)
        assert (task["status"], task["resends"]) == ("queued", resends)
        assert task["message"].endswith("message resent.")
    assert held == [f"{root.id}:1"] * 3
    overdue()
    assert [f.outcome for f in recovery.recover().findings] == ["failed"]
    task = TaskRecord.get_record(root.id)
    assert task["status"] == "failed"
    assert task["error"]["type"] == "Undeliverable"
    assert "sent 3 times and no worker started it" in task["error"]["message"]
    assert _status(item.id) == "failed"

# SPDX-License-Identifier: MIT
"""Nothing stranded: each fault injected for real, then the end state.

Every test kills (or stops) one of the module's own throw-away services
while a workflow runs on a real worker, brings it back, and checks what the
issue asks: the workflow ends as it should within bounded time, no task is
left ``running`` or ``queued``, no task ran twice at the same time (the
execution log of :mod:`tests.mock_module.fault_tasks`), and the search
indices match the database. Recovery times are printed (``pytest -s``).

Settings (see ``tests/faults/conftest.py``): lease 5 s, dispatch timeout
5 s, a recovery pass every 2 s, one new attempt for a lost worker,
database transactions of the worker retried for 60 s.
"""

import time
import uuid

import pytest
from invenio_search import current_search_client

from invenio_workflow_records import indexing
from invenio_workflow_records.cli import workflows as workflows_cli

pytestmark = [pytest.mark.integration, pytest.mark.faults]

RECOVERY_BOUND = 30.0
"""Seconds within which each recovery must be done."""


def api_create(client, name, params):
    """POST a workflow with ``start: true`` through the REST API."""
    return client.post("/workflows", {"name": name, "params": params, "start": True})


def results(tasks):
    """The results of the tasks, in plan order."""
    return [task.get("result") for task in tasks.values()]


RECOVERY_TIMES = []
"""Recovery times measured in this session (printed in pytest's summary)."""


def report(line):
    """Record one recovery time for the summary, and print it (``pytest -s``)."""
    RECOVERY_TIMES.append(line)
    print(f"\nrecovery: {line}", flush=True)


def test_baseline_a_workflow_runs_each_task_once(fault_env, create_workflow):
    """The harness without a fault: one execution per task, index in sync."""
    env = fault_env
    item = create_workflow(
        name="fault-steps", params={"log": env.log, "seconds": 0.05}, start=True
    )
    item_id = env.track(item.id)
    env.wait_finished(item_id, timeout=30)
    assert results(env.tasks_of(item_id)) == [1, 2, 3, 4, 5]
    env.assert_nothing_stranded({})


def test_worker_sigkilled_mid_task(fault_env, create_workflow):
    """Row 1: the worker's whole process group dies by SIGKILL mid-task.

    A fresh worker (another node) starts. The task whose worker was lost
    runs again as a new attempt (history says "worker lost") and the
    workflow succeeds; a task with ``worker_lost_retries=0`` fails with
    ``WorkerLost`` and its workflow fails.
    """
    env = fault_env
    retried = create_workflow(
        name="fault-slow-then-quick",
        params={"log": env.log, "first_attempt_seconds": 60, "seconds": 0.2},
        start=True,
    )
    fragile = create_workflow(
        name="fault-fragile-then-quick",
        params={"log": env.log, "seconds": 60},
        start=True,
    )
    retried_id = env.track(retried.id)
    fragile_id = env.track(fragile.id)
    retried_task = str(env.tasks_of(retried_id)["0"].id)
    fragile_task = str(env.tasks_of(fragile_id)["0"].id)
    env.wait_executing(retried_task)
    env.wait_executing(fragile_task)
    env.wait_task(retried_id, "0", "running")
    env.wait_task(fragile_id, "0", "running")

    old = env.worker
    survivors = old.kill()
    assert not survivors, f"processes of the killed worker survived: {survivors}"
    killed_at = old.killed_at
    new = env.workers.start()
    assert new.nodename != old.nodename

    seconds = env.wait_finished(
        retried_id, "succeeded", "failed", timeout=45, since=killed_at
    )
    report(
        f"worker SIGKILL -> task re-run, workflow succeeded in {seconds:.1f}s "
        f"(new worker answered ping after {new.startup_seconds:.1f}s)"
    )
    lost_seconds = env.wait_finished(
        fragile_id, "succeeded", "failed", timeout=45, since=killed_at
    )
    report(f"worker SIGKILL -> task failed WorkerLost in {lost_seconds:.1f}s")

    tasks = env.tasks_of(retried_id)
    assert env.status_of(retried_id) == "succeeded", tasks["0"]
    first = tasks["0"]
    assert first["status"] == "succeeded"
    assert first["attempt"] == 2, first
    messages = [rev.get("message") or "" for rev in first.revisions]
    assert any("worker lost" in m.lower() for m in messages), messages
    assert results(tasks) == [1, 2, 3]

    tasks = env.tasks_of(fragile_id)
    assert env.status_of(fragile_id) == "failed"
    assert tasks["0"]["status"] == "failed"
    assert tasks["0"]["error"]["type"] == "WorkerLost", tasks["0"]["error"]
    assert tasks["1"]["status"] == "skipped"

    assert seconds < RECOVERY_BOUND
    assert lost_seconds < RECOVERY_BOUND
    # The killed attempt and the new one; the fragile task ran once.
    env.assert_nothing_stranded({retried_task: 2})


def test_broker_killed_mid_chain(fault_env, create_workflow, admin_client):
    """Row 2: Redis dies mid-chain (messages lost) and returns 10 s later.

    Meanwhile a create+start through the REST API answers 201 with the
    workflow committed. Both workflows succeed within 30 s of the broker's
    return.
    """
    env = fault_env
    redis = env.services.redis
    item = create_workflow(
        name="fault-steps", params={"log": env.log, "seconds": 1.0}, start=True
    )
    item_id = env.track(item.id)
    env.wait_task(item_id, "1", "running")

    redis.kill()
    down_at = time.monotonic()
    started = time.monotonic()
    res = api_create(admin_client, "fault-steps", {"log": env.log, "seconds": 0.2})
    api_seconds = time.monotonic() - started
    assert res.status_code == 201, res.get_data(as_text=True)
    api_id = env.track(res.json["id"])
    assert env.status_of(api_id) == "running"  # committed, as started
    report(f"broker down: REST create+start answered 201 in {api_seconds:.1f}s")
    assert not redis.ready()

    time.sleep(max(0.0, down_at + 10 - time.monotonic()))
    redis.start()
    back_at = time.monotonic()
    seconds = env.wait_finished(item_id, timeout=45, since=back_at)
    report(f"broker back -> workflow running at the kill succeeded in {seconds:.1f}s")
    api_wait = env.wait_finished(api_id, timeout=45, since=back_at)
    report(
        f"broker back -> workflow created during the outage succeeded in {api_wait:.1f}s"
    )

    assert results(env.tasks_of(item_id)) == [1, 2, 3, 4, 5]
    assert results(env.tasks_of(api_id)) == [1, 2, 3, 4, 5]
    assert seconds < RECOVERY_BOUND
    assert api_wait < RECOVERY_BOUND
    env.assert_nothing_stranded({})


def test_search_server_killed_mid_run(fault_env, create_workflow, admin_client):
    """Row 3: the search server dies mid-run and returns once the runs ended.

    No transition is lost and the worker is not stuck: both workflows (one
    created through the REST API during the outage, 201) succeed while the
    search server is down. After it returns, the indices match the database
    within 30 s.
    """
    env = fault_env
    search = env.services.search_proxy
    item = create_workflow(
        name="fault-steps", params={"log": env.log, "seconds": 0.5}, start=True
    )
    item_id = env.track(item.id)
    env.wait_task(item_id, "1", "running")

    search.kill()
    down_at = time.monotonic()
    res = api_create(admin_client, "fault-steps", {"log": env.log, "seconds": 0.1})
    assert res.status_code == 201, res.get_data(as_text=True)
    api_id = env.track(res.json["id"])

    seconds = env.wait_finished(item_id, timeout=30, since=down_at)
    env.wait_finished(api_id, timeout=30)
    report(f"search down: both workflows succeeded after {seconds:.1f}s of outage")
    assert not search.ready(), "the search server came back during the runs"
    assert results(env.tasks_of(item_id)) == [1, 2, 3, 4, 5]
    assert results(env.tasks_of(api_id)) == [1, 2, 3, 4, 5]

    search.start()
    index_seconds = env.wait_index_agrees(timeout=RECOVERY_BOUND)
    report(f"search server back -> index matches the database in {index_seconds:.1f}s")
    env.assert_nothing_stranded({})


def _live_dynamic(kind):
    """``{index: dynamic}`` of the live mappings behind the ``kind`` alias.

    None when nothing answers to the alias.
    """
    alias = indexing.index_alias(kind)
    if not current_search_client.indices.exists(index=alias):
        return None
    mappings = current_search_client.indices.get_mapping(index=alias)
    return {
        name: str(body["mappings"].get("dynamic")) for name, body in mappings.items()
    }


def _queued():
    """Rows waiting in the index queue (both tables)."""
    return sum(result.queued for result in indexing.check().values())


def test_search_data_lost_then_reindex(fault_env, create_workflow, app):
    """Row 4: the search server restarts empty, writes go on, then reindex.

    After the loss, a workflow runs (the engine's drain finds no index: its
    rows stay queued) and an index request from elsewhere writes to the
    aliases' names, so the cluster creates indices with dynamic mappings.
    ``invenio workflows reindex`` then gives the indices the module's strict
    mappings and every record back; ``invenio workflows list`` works and
    ``invenio workflows check`` exits 0.
    """
    env = fault_env
    search = env.services.search
    before = create_workflow(
        name="fault-steps", params={"log": env.log, "seconds": 0}, start=True
    )
    before_id = env.track(before.id)
    env.wait_finished(before_id, timeout=30)
    env.wait_index_agrees()

    search.restart()  # SIGKILL, then an empty server on the same port
    lost_at = time.monotonic()
    after = create_workflow(
        name="fault-steps", params={"log": env.log, "seconds": 0}, start=True
    )
    after_id = env.track(after.id)
    env.wait_finished(after_id, timeout=30)
    # Give the drains a few recovery passes against the empty server.
    time.sleep(2 * 2 + 0.5)
    queued_after_loss = _queued()
    engine_created = {kind: _live_dynamic(kind) for kind in indexing.KINDS}
    print(
        f"\nafter the loss: {queued_after_loss} rows queued; indices made by "
        f"the engine's writes: {engine_created}"
    )
    # A write from elsewhere (an older worker, a script): the cluster
    # creates the indices with dynamic mappings.
    for kind, record_id in (("workflows", after_id), ("tasks", uuid.uuid4())):
        current_search_client.index(
            index=indexing.index_alias(kind),
            id=str(record_id),
            body={"stray": True},
            refresh=True,
        )
    for kind in indexing.KINDS:
        assert set(_live_dynamic(kind).values()) != {"strict"}, kind

    runner = app.test_cli_runner()
    reindex = runner.invoke(workflows_cli, ["reindex"])
    assert reindex.exit_code == 0, reindex.output
    for kind in indexing.KINDS:
        assert set(_live_dynamic(kind).values()) == {"strict"}, kind
    listed = runner.invoke(workflows_cli, ["list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert str(before_id) in listed.output and str(after_id) in listed.output
    assert "check" in workflows_cli.commands, (
        "`invenio workflows check` is not a command of the `workflows` group "
        f"(commands: {sorted(workflows_cli.commands)})"
    )
    check = runner.invoke(workflows_cli, ["check"])
    assert check.exit_code == 0, check.output
    report(
        "search data lost -> reindexed (strict mappings), listed and checked "
        f"{time.monotonic() - lost_at:.1f}s after the loss"
    )
    env.assert_nothing_stranded({})


def test_database_stopped_while_a_task_finishes(
    fault_env, create_workflow, admin_client
):
    """Row 5: PostgreSQL stops for 10 s while a task finishes.

    The REST API answers 503 (JSON, ``Retry-After``, no traceback) during
    the outage. The worker keeps retrying the task's bookkeeping: the
    result of the attempt that ran is recorded (no second execution) and
    the workflow succeeds. A new workflow runs afterwards (no dead pooled
    connection is left in the worker).
    """
    env = fault_env
    pg = env.services.postgres
    item = create_workflow(
        name="fault-slow-then-quick",
        params={"log": env.log, "first_attempt_seconds": 4, "seconds": 0.2},
        start=True,
    )
    item_id = env.track(item.id)
    task_id = str(env.tasks_of(item_id)["0"].id)
    env.wait_executing(task_id)

    pg.stop()
    down_at = time.monotonic()
    for res in (
        admin_client.get(f"/workflows/{item_id}"),
        api_create(admin_client, "fault-steps", {"log": env.log}),
    ):
        body = res.get_data(as_text=True)
        assert res.status_code == 503, body
        assert res.is_json, body
        assert res.json.get("status") == 503, body
        assert "Retry-After" in res.headers
        assert "Traceback" not in body
    # The task finishes while the database is down.
    env.wait_for(
        lambda: [e for e in env.executions() if e.task_id == task_id and e.ended],
        timeout=15,
        what="the task finished",
    )
    assert not pg.ready()
    time.sleep(max(0.0, down_at + 10 - time.monotonic()))
    pg.start()
    back_at = time.monotonic()
    seconds = env.wait_finished(
        item_id, "succeeded", "failed", timeout=60, since=back_at
    )
    report(f"PostgreSQL back -> workflow finished in {seconds:.1f}s")

    fresh = create_workflow(
        name="fault-steps", params={"log": env.log, "seconds": 0}, start=True
    )
    fresh_id = env.track(fresh.id)
    fresh_seconds = env.wait_finished(fresh_id, timeout=30)
    report(f"after PostgreSQL's return a new workflow ran in {fresh_seconds:.1f}s")

    tasks = env.tasks_of(item_id)
    assert env.status_of(item_id) == "succeeded", tasks["0"]
    history = [(rev["attempt"], rev["status"]) for rev in tasks["0"].revisions]
    assert tasks["0"]["attempt"] == 1, (
        "the result of the attempt that ran during the outage was lost; the "
        f"task ran again. History (attempt, status): {history}; message of "
        f"the last revision: {tasks['0'].get('message')!r}"
    )
    assert results(tasks) == [1, 2, 3]
    assert seconds < RECOVERY_BOUND
    env.assert_nothing_stranded({})


def test_message_the_worker_cannot_decode_ends_failed(fault_env, create_workflow):
    """A serializer mismatch: resent a few times, then failed with the reason."""
    env = fault_env
    item = create_workflow(
        name="fault-undecodable", params={"log": env.log}, start=True
    )
    item_id = env.track(item.id)
    took = env.wait_finished(item_id, "failed", timeout=90)
    report(f"undecodable message -> task failed as Undeliverable in {took:.1f}s")
    first, second = env.tasks_of(item_id).values()
    assert first["status"] == "failed"
    assert first["error"]["type"] == "Undeliverable"
    assert "no worker started it" in first["error"]["message"]
    assert first["resends"] == 3
    assert second["status"] == "skipped"
    assert env.executions() == []
    env.assert_nothing_stranded({str(first.id): 0})

# SPDX-License-Identifier: MIT
"""Tests of the integration test harness: a real worker, Redis, one database."""

import os
import re
import time

import psutil
import pytest
from invenio_access.permissions import system_identity

from tests.mock_module.integration_tasks import (
    add,
    flaky,
    harness_count_workflows,
    harness_create_workflow,
    harness_write,
    sleep_then,
)

pytestmark = pytest.mark.integration


def test_worker_answers_ping(celery_worker_process):
    """The worker runs in its own process group and answers ping."""
    worker = celery_worker_process
    assert worker.ping()
    assert worker.process.poll() is None
    assert os.getpgid(worker.pid) == worker.pid
    assert worker.pid != os.getpid()


def test_worker_configuration(celery_worker_process, app_config, integration_celery):
    """The worker got the test's configuration and knows the test tasks."""
    worker = celery_worker_process
    stats = worker.inspect().stats()[worker.nodename]
    assert stats["pool"]["max-concurrency"] == 2
    assert stats["prefetch_count"] == 2  # multiplier 1 x concurrency 2
    queues = worker.inspect().active_queues()[worker.nodename]
    assert [q["name"] for q in queues] == [worker.queue]
    assert worker.queue == integration_celery.conf.task_default_queue

    conf = worker.inspect().conf(with_defaults=False)[worker.nodename]
    assert conf["task_always_eager"] is False
    assert conf["task_acks_late"] is True
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["task_default_queue"] == worker.queue
    assert not conf.get("result_backend")

    registered = set(worker.inspect().registered()[worker.nodename])
    for name in (
        "tests.mock_module.tasks.add",
        "tests.mock_module.integration_tasks.add",
        "tests.mock_module.integration_tasks.flaky",
        "tests.mock_module.integration_tasks.harness_count_workflows",
    ):
        assert name in registered

    for key in ("SQLALCHEMY_DATABASE_URI", "SEARCH_INDEX_PREFIX", "SEARCH_HOSTS"):
        assert worker.config[key] == app_config[key]


def test_workflow_task_runs_in_the_worker(celery_worker_process, tmp_path):
    """A workflow task sent from the test runs in the worker process."""
    worker = celery_worker_process
    result = add.apply_async((2, 3))
    match = worker.wait_for_log(
        rf"Task tests\.mock_module\.integration_tasks\.add\[{result.id}\] "
        r"succeeded in [0-9.]+s: (\S+)"
    )
    assert match.group(1) == "5"

    path = tmp_path / "written.txt"
    harness_write.delay(str(path), "from the worker")
    worker.wait_for_log(rf"harness_write\[[0-9a-f-]+\] succeeded")
    assert path.read_text() == "from the worker"


def test_worker_sees_committed_rows(
    celery_worker_process, create_workflow, committed_db, wait_for, tmp_path
):
    """Rows committed by the test are visible to a task in the worker."""
    path = tmp_path / "count.txt"
    harness_count_workflows.delay(str(path))
    assert wait_for(path.exists, what="first count file") and path.read_text() == "0"

    create_workflow(name="sums")
    create_workflow(name="sums")
    path.unlink()
    harness_count_workflows.delay(str(path))
    wait_for(path.exists, what="second count file")
    assert path.read_text() == "2"


def test_test_sees_worker_commits(
    celery_worker_process, committed_db, wait_for, workflows_service
):
    """The test sees, in the database and in search, what the worker wrote."""
    from invenio_workflow_records.records.models import WorkflowMetadata

    assert WorkflowMetadata.query.count() == 0  # opens a read transaction
    harness_create_workflow.delay("sums")
    wait_for(lambda: WorkflowMetadata.query.count() == 1, what="workflow row")
    model = WorkflowMetadata.query.one()
    assert model.name == "sums"

    def indexed():
        workflows_service.indexer.refresh()
        hits = workflows_service.search(system_identity).to_dict()["hits"]
        return [hit["id"] for hit in hits["hits"]]

    assert wait_for(indexed, what="indexed workflow") == [str(model.id)]


def test_committed_db_starts_empty(committed_db):
    """The previous test's rows were deleted."""
    from invenio_workflow_records.records.models import WorkflowMetadata

    assert WorkflowMetadata.query.count() == 0


def test_wait_for_timeout_message(celery_worker_process, wait_for):
    """``wait_for`` fails with what it waited for and the worker log."""
    with pytest.raises(pytest.fail.Exception) as info:
        wait_for(lambda: False, timeout=0.3, what="the impossible")
    message = str(info.value)
    assert "the impossible not true after 0.3 s" in message
    assert "last value: False" in message
    assert "worker log" in message
    assert celery_worker_process.log_path in message


def test_retry_counts_attempts_across_processes(celery_worker_process, tmp_path):
    """The flaky task fails once, is retried by Celery, then succeeds."""
    attempts = tmp_path / "attempts"
    result = flaky.apply_async((7,), {"attempts_file": str(attempts)})
    celery_worker_process.wait_for_log(
        rf"flaky\[{result.id}\] succeeded in [0-9.]+s: \{{'x': 7, 'attempts': 2\}}"
    )
    assert attempts.read_text() == "2"
    assert re.search(rf"flaky\[{result.id}\] retry", celery_worker_process.log_text())


def test_drain_kills_running_tasks(celery_worker_process):
    """``drain`` returns the worker to idle, killing a long task."""
    worker = celery_worker_process
    result = sleep_then.apply_async((1,), {"seconds": 60})
    worker.wait_for_log(rf"sleep_then\[{result.id}\] received")
    time.sleep(0.5)
    started = time.monotonic()
    worker.drain(grace=0.5)
    assert time.monotonic() - started < 15
    assert worker.ping()


def test_leaves_a_task_running(celery_worker_process):
    """Leave a long task running; the next test must find the worker idle."""
    result = sleep_then.apply_async((1,), {"seconds": 60})
    celery_worker_process.wait_for_log(rf"sleep_then\[{result.id}\] received")


def test_worker_is_idle_after_previous_test(celery_worker_process):
    """Between two tests the worker was drained (runs after the test above)."""
    inspect = celery_worker_process.inspect()
    node = celery_worker_process.nodename
    assert inspect.active()[node] == []
    assert inspect.reserved()[node] == []
    assert inspect.scheduled()[node] == []


def test_stopped_worker_leaves_no_process(start_worker, worker_queue):
    """Stopping a worker, even with a task running, ends its whole group."""
    worker = start_worker(queue=f"{worker_queue}-extra")
    main = psutil.Process(worker.pid)
    children = main.children(recursive=True)
    assert len(children) >= 2  # the prefork pool
    pids = {worker.pid} | {child.pid for child in children}

    result = sleep_then.apply_async((1,), {"seconds": 60}, queue=worker.queue)
    worker.wait_for_log(rf"sleep_then\[{result.id}\] received")
    survivors = worker.stop(grace=1)
    assert survivors == []
    assert worker.process.returncode is not None
    for pid in pids:
        alive = psutil.pid_exists(pid)
        if alive:
            try:
                alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                alive = False
        assert not alive, pid
    assert not worker.ping(timeout=0.5)

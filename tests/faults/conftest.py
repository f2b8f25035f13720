# SPDX-License-Identifier: MIT
"""Fixtures of the fault tests: services of their own that the tests kill.

Each test module gets throw-away services (see :mod:`tests.faults.services`),
started by ``fault_services``: a Redis broker, a PostgreSQL cluster and an
osmem search server behind a TCP proxy, each on a port of its own. The test
application and its Celery worker (``fault_worker``) use them, never the
services of the rest of the suite: a test may SIGKILL any of them, and the
worker too. After each test, ``fault_env`` brings every service back, makes
sure a worker runs and is idle, before ``committed_db`` deletes the rows.

The worker is the integration tests' worker (``tests.integration``) with the
recovery settings of the issue "Nothing stranded": a lease of 5 s, a
recovery pass every 2 s, late acknowledgement, and a real connection pool
(not the tests' ``NullPool``), so that dead pooled connections are part of
what the tests prove.

Without ``redis-server`` or PostgreSQL's binaries the fault tests are
skipped, except when ``CI=true``, where they fail.
"""

import json
import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest
from invenio_access.models import ActionUsers
from invenio_access.permissions import superuser_access
from sqlalchemy.pool import NullPool

from tests.integration.conftest import (
    _WORKERS,
    WORKER_START_TIMEOUT,
    WorkerProcess,
    _in_ci,
    _reset_celery_connections,
    committed_db,
    create_workflow,
    end_transaction,
    wait_for,
    worker_app_config,
    worker_database,
    worker_queue,
)
from tests.mock_module.fault_definitions import FAULT_DEFINITIONS

from .executions import concurrent_executions, read_executions
from .services import (
    PostgresCluster,
    RedisServer,
    SearchServer,
    TcpProxy,
    is_root,
    make_workdir,
    pg_bindir,
)

__all__ = (
    "committed_db",
    "create_workflow",
    "wait_for",
    "worker_database",
    "worker_queue",
)

FAULT_SETTINGS = dict(
    WORKFLOWS_LEASE_SECONDS=5,
    WORKFLOWS_DISPATCH_TIMEOUT=5,
    WORKFLOWS_RECOVERY_INTERVAL=2,
    WORKFLOWS_WORKER_LOST_RETRIES=1,
    WORKFLOWS_DB_RETRY_SECONDS=60,
    WORKFLOWS_INDEX_DELAY=0.2,
)
"""The recovery settings of the issue, for the test app and its worker."""

PG_OPTIONS = {"connect_args": {"options": "-c timezone=UTC"}}
"""Engine options of the worker: the default pool of SQLAlchemy, no pre-ping."""

DATABASE = "workflows_faults"
"""Name of the database of the fault tests in their own cluster."""

JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
"""Headers of the REST requests of the tests."""

UNFINISHED = ("running", "queued", "retrying")
"""Task statuses that nothing may be left in at the end of a test."""

NEVER_RAN = ("pending", "skipped", "stopped")
"""Task statuses of tasks expected not to have run (unless a test says so)."""


def pytest_terminal_summary(terminalreporter):
    """List the recovery times of the fault tests at the end of the run."""
    from .test_nothing_stranded import RECOVERY_TIMES

    if RECOVERY_TIMES:
        terminalreporter.section("recovery times (fault injection)")
        for line in RECOVERY_TIMES:
            terminalreporter.write_line(line)


def pytest_configure(config):
    """Register the ``faults`` marker."""
    config.addinivalue_line(
        "markers",
        "faults: kills and restarts throw-away services (Redis, PostgreSQL, "
        "search, the worker); run when their binaries exist, always in CI",
    )


def _skip_or_fail(reason):
    """Skip with ``reason``; fail instead under ``CI=true``."""
    if _in_ci():
        pytest.fail(
            f"{reason} (CI={os.environ['CI']}: fault tests must run in CI, they "
            "are not skipped)",
            pytrace=False,
        )
    pytest.skip(reason)


class FaultServices:
    """The module's throw-away services, and how to bring them all back."""

    def __init__(self, redis, postgres, search, search_proxy):
        """Group the services (already started)."""
        self.redis = redis
        self.postgres = postgres
        self.search = search
        self.search_proxy = search_proxy

    def ensure_running(self):
        """Start again every service that a test left down."""
        self.redis.ensure_running()
        self.postgres.ensure_running()
        self.search.ensure_running()
        self.search_proxy.ensure_running()

    def describe(self):
        """One line: ports and whether each service answers."""
        states = [
            ("redis", self.redis.port, self.redis.ready()),
            ("postgresql", self.postgres.port, self.postgres.ready()),
            ("search", self.search.port, self.search.ready()),
            ("search proxy", self.search_proxy.port, self.search_proxy.ready()),
        ]
        return ", ".join(
            f"{name} :{port} {'up' if up else 'DOWN'}" for name, port, up in states
        )


@pytest.fixture(scope="module")
def fault_services():
    """Redis, PostgreSQL and a search server (behind a proxy) of this module.

    Skipped without ``redis-server`` or PostgreSQL (failed under
    ``CI=true``). Everything is killed and deleted at the end of the module.
    """
    missing = []
    if not RedisServer.binary():
        missing.append("redis-server")
    if not pg_bindir():
        missing.append("PostgreSQL (initdb, pg_ctl)")
    if is_root() and not shutil.which("runuser"):
        missing.append("runuser (to run PostgreSQL as postgres)")
    if missing:
        _skip_or_fail(
            f"fault tests need {', '.join(missing)} (run `bash scripts/services.sh "
            "start`, which installs them)"
        )
    started = []
    workdir = make_workdir("wf-faults-")
    postgres = PostgresCluster(make_workdir("wf-faults-pg-"))
    try:
        redis = RedisServer(workdir).start()
        started.append(redis)
        search = SearchServer(workdir).start()
        started.append(search)
        proxy = TcpProxy(workdir, search.port).start()
        started.append(proxy)
        postgres.init().start()
        yield FaultServices(redis, postgres, search, proxy)
    finally:
        for service in started:
            service.kill()
        postgres.destroy()
        subprocess.run(["rm", "-rf", workdir], check=False)


@pytest.fixture(scope="module")
def redis_url(fault_services):
    """URL of the module's own Redis broker."""
    return fault_services.redis.url


@pytest.fixture(scope="module")
def broker_uri(redis_url):
    """The broker of pytest-invenio's ``app_config``: the module's Redis."""
    return redis_url


@pytest.fixture(scope="module")
def db_uri(fault_services):
    """A database of the module's own PostgreSQL cluster."""
    return fault_services.postgres.uri(DATABASE)


@pytest.fixture(scope="module")
def search_hosts(fault_services):
    """The module's search server, through the proxy that tests may kill."""
    return [{"host": "127.0.0.1", "port": fault_services.search_proxy.port}]


@pytest.fixture(scope="module")
def celery_config_ext(celery_config_ext, redis_url, worker_queue):
    """Celery configuration of the fault tests (same keys reach the worker).

    Not eager, the module's Redis and queue, no result backend, late
    acknowledgement, messages of a lost worker rejected, one message
    prefetched, and the fault tasks imported by the worker at start.
    """
    celery_config_ext.update(
        CELERY_BROKER_URL=redis_url,
        CELERY_TASK_ALWAYS_EAGER=False,
        CELERY_TASK_EAGER_PROPAGATES=False,
        CELERY_RESULT_BACKEND=None,
        CELERY_TASK_DEFAULT_QUEUE=worker_queue,
        CELERY_WORKER_PREFETCH_MULTIPLIER=1,
        CELERY_TASK_ACKS_LATE=True,
        # Flask-CeleryExt maps this name (without CELERY_) to
        # task_reject_on_worker_lost; CELERY_TASK_REJECT_ON_WORKER_LOST
        # would be passed on unmapped, and ignored by Celery.
        TASK_REJECT_ON_WORKER_LOST=True,
        CELERY_IMPORTS=["tests.mock_module.fault_tasks"],
    )
    celery_config_ext.pop("CELERY_TASK_EAGER_PROPAGATES_EXCEPTIONS", None)
    return celery_config_ext


@pytest.fixture(scope="module")
def app_config(app_config):
    """Test application configuration: recovery settings, fault definitions.

    The test process keeps pytest-invenio's ``NullPool`` (no connection
    outlives a request); the worker gets a real pool (see ``fault_worker``).
    """
    app_config.update(FAULT_SETTINGS)
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"poolclass": NullPool, **PG_OPTIONS}
    app_config["WORKFLOWS_DEFINITIONS"] = {
        **app_config.get("WORKFLOWS_DEFINITIONS", {}),
        **FAULT_DEFINITIONS,
    }
    return app_config


@pytest.fixture(scope="module")
def fault_celery(redis_url, base_app, worker_queue):
    """The test process's Celery app, checked to send to the module's queue."""
    celery = base_app.extensions["flask-celeryext"].celery
    _reset_celery_connections(celery)
    conf = celery.conf
    assert conf.task_always_eager is False, conf.task_always_eager
    assert conf.broker_url == redis_url, conf.broker_url
    assert conf.task_default_queue == worker_queue, conf.task_default_queue
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    yield celery
    _reset_celery_connections(celery)


def reset_broker_connections(celery):
    """Close the test process's broker connections (after a broker restart).

    Sends retry on a dead connection, but control commands (ping, inspect,
    purge) would fail on one taken from the pool. kombu's global pools are
    closed and forgotten; they are made again on their next use.
    """
    from kombu import pools

    pools.reset()
    _reset_celery_connections(celery)


class FaultWorker(WorkerProcess):
    """A worker that a test may kill (SIGKILL of its whole process group).

    Unlike :class:`~tests.integration.conftest.WorkerProcess` it does not
    purge the queue when it starts: a worker started after a fault finds
    what the broker kept, as in production.
    """

    killed_at = None
    """``time.monotonic()`` of the kill, if killed."""

    def start(self, timeout=WORKER_START_TIMEOUT):
        """Start the worker and wait until it answers ping (no purge)."""
        with open(f"{self.log_path}.config.json", "w") as fp:
            json.dump(self.config, fp, indent=2, sort_keys=True)
        self._log = open(self.log_path, "ab")
        started = time.monotonic()
        self.process = subprocess.Popen(
            self.command,
            cwd=self.rootdir,
            env=self.environ(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while True:
            if self.process.poll() is not None:
                error = f"the worker exited with code {self.process.returncode}"
                break
            if self.ping(timeout=0.5):
                self.startup_seconds = time.monotonic() - started
                return self
            if time.monotonic() - started > timeout:
                error = f"no answer to ping within {timeout:.0f} s"
                break
            time.sleep(0.2)
        self.stop(grace=2)
        pytest.fail(
            f"Celery worker {self.nodename} did not start: {error}.\n"
            f"Log {self.log_path}, last lines:\n{self.log_tail()}",
            pytrace=False,
        )

    def kill(self):
        """SIGKILL every process of the worker's group at once.

        Returns the processes of the group still alive 5 s later (none
        expected).
        """
        self.stopped = True
        self.killed_at = time.monotonic()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)
        deadline = time.monotonic() + 5
        survivors = self.group_processes()
        while survivors and time.monotonic() < deadline:
            time.sleep(0.05)
            survivors = self.group_processes()
        if self._log is not None:
            self._log.close()
            self._log = None
        return survivors


class Workers:
    """The module's worker: the current one, killed ones, new ones."""

    def __init__(self, celery, config, queue, log_dir, rootdir, stash):
        """Prepare the workers of one module (none started)."""
        self.celery = celery
        self.config = config
        self.queue = queue
        self.log_dir = log_dir
        self.rootdir = rootdir
        self.all = stash.setdefault(_WORKERS, [])
        self.current = None

    def start(self):
        """Start a new worker (with a new node name); it becomes the current one."""
        worker = FaultWorker(
            self.celery,
            self.config,
            self.queue,
            self.log_dir,
            self.rootdir,
            name=f"wf-fault-{uuid.uuid4().hex[:8]}",
        )
        self.all.append(worker)
        reset_broker_connections(self.celery)
        self.current = worker.start()
        return worker

    def ensure_running(self):
        """The current worker, started anew if it was killed or died."""
        if self.current is None or self.current.stopped or not self.current.running:
            if self.current is not None and not self.current.stopped:
                self.current.stop(grace=1)
            return self.start()
        return self.current

    def stop_all(self):
        """Stop every worker; return the processes that survived."""
        survivors = []
        for worker in self.all:
            if worker.process is not None and not worker.stopped:
                survivors += worker.stop()
            elif worker.process is not None:
                survivors += worker.group_processes()
        return survivors


@pytest.fixture(scope="module")
def fault_worker(
    request, app, app_config, worker_database, fault_celery, instance_path
):
    """The module's workers (``Workers``); a test kills and starts them.

    The worker's configuration is the test application's, except for its
    connection pool: SQLAlchemy's default pool without pre-ping, as in
    production, so that a connection that died with the database stays in
    the pool until the engine notices.
    """
    config = dict(app_config)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(PG_OPTIONS)
    log_dir = os.environ.get("WORKFLOWS_TEST_WORKER_LOG_DIR") or instance_path
    os.makedirs(log_dir, exist_ok=True)
    workers = Workers(
        fault_celery,
        worker_app_config(config),
        app_config["CELERY_TASK_DEFAULT_QUEUE"],
        log_dir,
        str(request.config.rootpath),
        request.node.stash,
    )
    yield workers
    survivors = workers.stop_all()
    assert not survivors, f"worker processes survived: {survivors}"


@pytest.fixture()
def admin(app, committed_db, UserFixture):
    """A committed user granted ``superuser-access``."""
    user = UserFixture(email="fault-admin@example.org", password="admin-pass")
    user.create(app, committed_db)
    committed_db.session.add(ActionUsers.allow(superuser_access, user_id=user.id))
    committed_db.session.commit()
    end_transaction()
    return user


class ApiClient:
    """A logged-in REST client whose every request has an app context of its own.

    The tests share one application context per module (pytest-invenio's
    ``appctx``): a service call of the test caches an anonymous user in
    ``flask.g``, which a request made in the same context would reuse.
    """

    def __init__(self, app, client):
        """Wrap the Flask test ``client`` of ``app``."""
        self.app = app
        self.client = client

    def open(self, path, method="GET", body=None):
        """Send one JSON request; an exception it raises fails the test clearly."""
        data = None if body is None else json.dumps(body)
        try:
            with self.app.app_context():
                return self.client.open(
                    path, method=method, data=data, headers=JSON_HEADERS
                )
        except Exception as error:
            pytest.fail(
                f"{method} {path} raised {type(error).__name__}: {error} (an "
                "unhandled error: 500 with a traceback in the log in production)",
                pytrace=False,
            )

    def get(self, path):
        """``GET path``."""
        return self.open(path)

    def post(self, path, body):
        """``POST path`` with a JSON ``body``."""
        return self.open(path, "POST", body)


@pytest.fixture()
def admin_client(app, admin):
    """A REST client (``ApiClient``) logged in as ``admin``."""
    client = ApiClient(app, app.test_client())
    with app.app_context():
        admin.login(client.client)
    end_transaction()
    return client


class FaultEnv:
    """What a fault test works with: services, worker, execution log, checks."""

    def __init__(self, services, workers, wait_for, log_path):
        """Gather the parts of one test."""
        self.services = services
        self.workers = workers
        self.wait_for = wait_for
        self.log = str(log_path)
        self.workflow_ids = []

    @property
    def worker(self):
        """The current worker."""
        return self.workers.current

    def executions(self):
        """The executions of tasks traced in this test's log."""
        return read_executions(self.log)

    def track(self, workflow_id):
        """Remember a workflow whose tasks the end-state checks cover.

        Returns its id as a string (safe to use while the database is down).
        """
        self.workflow_ids.append(str(workflow_id))
        return str(workflow_id)

    def tasks_of(self, workflow_id):
        """The workflow's task records by key (read from the database)."""
        from invenio_workflow_records.records import TaskRecord

        return {t["key"]: t for t in TaskRecord.get_workflow_tasks(workflow_id)}

    def status_of(self, workflow_id):
        """The workflow's status as stored."""
        from invenio_workflow_records.records import WorkflowRecord

        return WorkflowRecord.get_record(workflow_id)["status"]

    def wait_task(self, workflow_id, key, status, timeout=30.0):
        """Wait until task ``key`` of the workflow has ``status``."""
        return self.wait_for(
            lambda: self.tasks_of(workflow_id)[key]["status"] == status,
            timeout=timeout,
            what=f"task {key} of {workflow_id} {status}",
        )

    def wait_finished(self, workflow_id, *statuses, timeout=60.0, since=None):
        """Wait until the workflow has one of ``statuses``; seconds since ``since``.

        ``since`` is a ``time.monotonic()`` value (default: now).
        """
        statuses = statuses or ("succeeded",)
        since = time.monotonic() if since is None else since
        self.wait_for(
            lambda: self.status_of(workflow_id) in statuses,
            timeout=timeout,
            what=f"workflow {workflow_id} {'/'.join(statuses)} (services when "
            f"the wait began: {self.services.describe()})",
        )
        return time.monotonic() - since

    def wait_executing(self, task_id, timeout=30.0):
        """Wait until the execution log shows task ``task_id`` running."""
        return self.wait_for(
            lambda: [
                e
                for e in self.executions()
                if e.task_id == str(task_id) and not e.ended
            ],
            timeout=timeout,
            what=f"task {task_id} executing",
        )

    def index_differences(self):
        """``{kind: CheckResult}`` of the indices that differ or have a queue."""
        from invenio_workflow_records import indexing

        results = indexing.check()
        return {
            kind: result
            for kind, result in results.items()
            if not result.ok or result.queued
        }

    def wait_index_agrees(self, timeout=30.0):
        """Wait until the indices match the database (nothing queued); seconds."""
        started = time.monotonic()
        last = {}

        def agrees():
            last.clear()
            last.update(self.index_differences())
            return not last

        self.wait_for(
            agrees,
            timeout=timeout,
            what=f"the index matches the database (differences: {last!r})",
        )
        return time.monotonic() - started

    def assert_nothing_stranded(self, executions_per_task=None):
        """The checks of every fault test, at its end.

        No task of the test's workflows is left running, queued or retrying;
        no two executions of one task overlapped; each task ran as many
        times as ``executions_per_task`` says (``{task id: count}``, 1 for
        the tasks it does not name, 0 for skipped ones, when given); the indices match the
        database within 30 s.
        """
        end_transaction()
        stranded = []
        tasks = {}
        for workflow_id in self.workflow_ids:
            for key, task in self.tasks_of(workflow_id).items():
                tasks[str(task.id)] = task
                if task["status"] in UNFINISHED:
                    stranded.append((workflow_id, key, task["status"]))
        end_transaction()
        assert not stranded, f"tasks left unfinished: {stranded}"
        executions = self.executions()
        overlapping = concurrent_executions(executions)
        assert not overlapping, "tasks ran twice at the same time: " + "; ".join(
            f"{a.task_id}: attempt {a.attempt} (pid {a.pid}, {a.start:.2f}-"
            f"{a.last:.2f}) and attempt {b.attempt} (pid {b.pid}, {b.start:.2f}-"
            f"{b.last:.2f})"
            for a, b in overlapping
        )
        if executions_per_task is not None:
            counts = {}
            for execution in executions:
                counts[execution.task_id] = counts.get(execution.task_id, 0) + 1
            expected = {
                task_id: executions_per_task.get(
                    task_id, 0 if task["status"] in NEVER_RAN else 1
                )
                for task_id, task in tasks.items()
            }
            ran = {task_id: counts.get(task_id, 0) for task_id in expected}
            assert ran == expected, (
                "executions per task differ (task id: count): "
                f"ran {ran}, expected {expected}"
            )
        self.wait_index_agrees(timeout=30)


@pytest.fixture()
def fault_env(fault_services, fault_worker, committed_db, wait_for, tmp_path):
    """Everything a fault test needs, and the cleanup after it.

    Before the test: every service up, a worker running. After it (before
    ``committed_db`` deletes the rows): every service brought back, a
    worker running and idle, nothing left in the queue.
    """
    fault_services.ensure_running()
    fault_worker.ensure_running()
    env = FaultEnv(fault_services, fault_worker, wait_for, tmp_path / "executions.log")
    yield env
    end_transaction()
    fault_services.ensure_running()
    reset_broker_connections(fault_worker.celery)
    worker = fault_worker.ensure_running()
    worker.drain(timeout=30)

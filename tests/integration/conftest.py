# SPDX-License-Identifier: MIT
"""Fixtures of the integration tests: a real Celery worker on Redis.

Each test module gets its own worker process (``celery_worker_process``),
built from the module's application configuration by
:mod:`tests.integration.worker_app`: same database (the SQLite file of the
module, or ``SQLALCHEMY_DATABASE_URI``), same search cluster (the module's
osmem clone, or ``SEARCH_HOSTS``), same index prefix and definitions. The
test application itself is not eager: ``apply_async`` in the test process
sends to the Redis broker, on a queue of the module's own, and the worker
runs the task.

Redis comes from ``WORKFLOWS_TEST_REDIS_URL``. Without it, or when Redis does
not answer, the integration tests are skipped, except when ``CI=true``, where
they fail.

The worker cannot see rows inside the rollback-only transaction of
pytest-invenio's ``db`` fixture: tests that share rows with the worker use
``committed_db``, which commits for real and deletes every row after the
test (after letting the worker go idle).
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import deque

import psutil
import pytest
from flask import has_app_context
from sqlalchemy.pool import NullPool

from .worker_app import CONFIG_ENV, IMPORT_STRING_KEYS, PARENT_ENV

REDIS_ENV = "WORKFLOWS_TEST_REDIS_URL"
"""Environment variable with the URL of the Redis broker."""

LOG_DIR_ENV = "WORKFLOWS_TEST_WORKER_LOG_DIR"
"""Optional directory for the worker logs (default: the instance path)."""

_WORKERS = pytest.StashKey()
"""Key of the list of workers started for a module, in the module's stash."""

WORKER_START_TIMEOUT = 60.0
"""Seconds a worker has to answer ``ping`` after it is started."""


def _in_ci():
    """Whether we run in CI, where integration tests must never be skipped."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _skip_or_fail(reason):
    """Skip with ``reason``; fail instead under ``CI=true``."""
    if _in_ci():
        pytest.fail(
            f"{reason} (CI={os.environ['CI']}: integration tests must run in CI, "
            "they are not skipped)",
            pytrace=False,
        )
    pytest.skip(reason)


def end_transaction(strict=False):
    """End the test process's database transaction, if it has one.

    So that the next query sees what the worker committed since (an SQLite
    read transaction keeps its snapshot), and so that no lock is held while
    the test waits for the worker: on SQLite every transaction of the module
    starts with ``BEGIN IMMEDIATE`` and holds the write lock until it ends.
    Uncommitted changes of the test are kept (and so is the transaction);
    with ``strict`` they are an error.
    """
    if not has_app_context():
        return
    from invenio_db import db

    session = db.session
    if session.new or session.dirty or session.deleted:
        if strict:
            raise RuntimeError(
                "wait_for: the session has uncommitted changes; commit them first"
            )
        return
    session.rollback()


@pytest.fixture(scope="session")
def redis_url():
    """URL of the Redis broker, checked to answer ``PING``.

    Skips the requesting tests when ``WORKFLOWS_TEST_REDIS_URL`` is unset or
    Redis does not answer; fails them instead when ``CI=true``.
    """
    url = os.environ.get(REDIS_ENV, "").strip()
    if not url:
        _skip_or_fail(
            f"integration tests need Redis: {REDIS_ENV} is not set (run "
            "`bash scripts/services.sh start` and source the env file it prints)"
        )
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except (redis.RedisError, OSError) as error:
        _skip_or_fail(
            f"integration tests need Redis: {REDIS_ENV}={url} does not answer "
            f"({type(error).__name__}: {error})"
        )
    return url


@pytest.fixture(scope="module")
def worker_queue():
    """Name of this module's Celery queue (unique, so that runs never mix)."""
    return f"wf-itest-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def broker_uri(redis_url):
    """The broker of pytest-invenio's ``app_config``: the Redis of the tests."""
    return redis_url


@pytest.fixture(scope="module")
def celery_config_ext(celery_config_ext, redis_url, worker_queue):
    """Celery configuration: not eager, Redis broker, no result backend.

    The same keys reach the worker (see ``worker_app_config``). They are the
    upper-case names that Flask-CeleryExt maps to Celery 5 settings
    (``CELERY_TASK_ALWAYS_EAGER`` → ``task_always_eager``, ...).
    """
    # BROKER_URL comes from ``broker_uri``; both keys map to ``broker_url``.
    celery_config_ext.update(
        CELERY_BROKER_URL=redis_url,
        CELERY_TASK_ALWAYS_EAGER=False,
        CELERY_TASK_EAGER_PROPAGATES=False,
        CELERY_RESULT_BACKEND=None,
        CELERY_TASK_DEFAULT_QUEUE=worker_queue,
        CELERY_WORKER_PREFETCH_MULTIPLIER=1,
        CELERY_TASK_ACKS_LATE=True,
    )
    # Not a Celery 5 setting (that is task_eager_propagates): drop it here.
    celery_config_ext.pop("CELERY_TASK_EAGER_PROPAGATES_EXCEPTIONS", None)
    return celery_config_ext


@pytest.fixture(scope="module")
def app_config(app_config, db_uri):
    """Test application configuration, usable by two processes at once.

    SQLite waits up to 30 s for a lock held by the other process instead of
    failing at once. The test process keeps pytest-invenio's ``NullPool``.
    """
    options = dict(app_config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("poolclass", NullPool)
    if db_uri.startswith("sqlite"):
        options["connect_args"] = {
            **options.get("connect_args", {}),
            "timeout": 30,
        }
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    return app_config


def _import_string(obj):
    """The ``module:qualname`` import string of a class or function."""
    return f"{obj.__module__}:{obj.__qualname__}"


def worker_app_config(config):
    """The JSON-able copy of ``config`` that the worker builds its app from.

    Objects in :data:`~tests.integration.worker_app.IMPORT_STRING_KEYS`
    (e.g. the engine's ``poolclass``) become import strings that the worker
    resolves. Any other value that JSON cannot carry is an error: the worker
    would otherwise silently run with a different configuration.
    """
    result, bad = {}, []
    for key, value in config.items():
        if key in IMPORT_STRING_KEYS and isinstance(value, dict):
            value = {
                name: (
                    _import_string(item)
                    if name in IMPORT_STRING_KEYS[key] and not isinstance(item, str)
                    else item
                )
                for name, item in value.items()
            }
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            bad.append(key)
            continue
        result[key] = value
    if bad:
        raise TypeError(
            "Configuration values the worker cannot receive as JSON: "
            f"{', '.join(sorted(bad))}. Give them as import strings or "
            "convert them in tests/integration/conftest.py:worker_app_config."
        )
    return result


def _reset_celery_connections(celery):
    """Forget the broker connections and routing that Celery cached.

    The test process has one Celery app for the whole session, reconfigured
    by each module's application; its connection pool, queues, router and
    result backend are cached on the app at first use and would keep an
    earlier module's broker or default queue.
    """
    # Drop the references only: the connection and producer pools live in
    # kombu's global registry (one per broker URL), shared with later
    # modules; closing them would break those modules' sends.
    celery._pool = None
    celery.__dict__.pop("amqp", None)
    if hasattr(celery, "_backend_cache"):
        celery._backend_cache = None
    local = getattr(celery, "_local", None)
    if local is not None and hasattr(local, "backend"):
        del local.backend


@pytest.fixture(scope="module", autouse=True)
def integration_celery(redis_url, base_app, worker_queue):
    """The test process's Celery app, checked to send to the module's queue.

    Autouse: every integration test needs Redis (and is skipped or failed
    without it, see ``redis_url``).
    """
    celery = base_app.extensions["flask-celeryext"].celery
    _reset_celery_connections(celery)
    conf = celery.conf
    assert conf.task_always_eager is False, conf.task_always_eager
    assert conf.broker_url == redis_url, conf.broker_url
    assert conf.task_default_queue == worker_queue, conf.task_default_queue
    assert not conf.result_backend, conf.result_backend
    yield celery
    _reset_celery_connections(celery)


@pytest.fixture(scope="module")
def worker_database(database):
    """The module's database, made ready for a second process.

    An SQLite file is switched to write-ahead logging (the setting is stored
    in the file, so the worker uses it too): readers do not block writers.
    """
    if database.engine.dialect.name == "sqlite":
        raw = database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            mode = cursor.fetchone()[0]
            cursor.close()
        finally:
            raw.close()
        assert mode.lower() == "wal", mode
    return database


class WorkerProcess:
    """A ``celery worker`` subprocess of the tests, and how to drive it.

    ``celery`` is the test process's Celery app, used to ping, inspect,
    purge and revoke; ``nodename`` is the worker's unique node name;
    ``queue`` the queue it consumes; ``log_path`` its combined stdout and
    stderr.
    """

    def __init__(self, celery, config, queue, log_dir, rootdir, name=None):
        """Prepare (not start) a worker for ``queue`` with the app ``config``."""
        self.celery = celery
        self.config = config
        self.queue = queue
        self.rootdir = str(rootdir)
        name = name or f"wf-test-{uuid.uuid4().hex[:8]}"
        self.nodename = f"{name}@{socket.gethostname()}"
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.process = None
        self.stopped = False
        self._log = None

    @property
    def running(self):
        """Whether the worker's main process is alive."""
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self):
        """Process id of the worker's main process."""
        return self.process.pid

    @property
    def command(self):
        """The command line of the worker."""
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.integration.worker_app",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            "-n",
            self.nodename,
            "-Q",
            self.queue,
        ]

    def environ(self):
        """Environment of the worker: ours, plus its app config and rootdir."""
        env = dict(os.environ)
        env[CONFIG_ENV] = json.dumps(self.config)
        env[PARENT_ENV] = str(os.getpid())
        paths = [self.rootdir] + [
            p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p
        ]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self, timeout=WORKER_START_TIMEOUT):
        """Purge the queue, start the worker and wait until it answers ping."""
        self.purge()
        with open(f"{self.log_path}.config.json", "w") as fp:
            json.dump(self.config, fp, indent=2, sort_keys=True)
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.rootdir,
            env=self.environ(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started = time.monotonic()
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"the worker exited with code {self.process.returncode}"
                    )
                if self.ping(timeout=0.5):
                    self.startup_seconds = time.monotonic() - started
                    return self
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"no answer to ping within {timeout:.0f} s")
                time.sleep(0.2)
        except RuntimeError as error:
            self.stop(grace=2)
            pytest.fail(
                f"Celery worker {self.nodename} did not start: {error}.\n"
                f"Command: {' '.join(self.command)}\n"
                f"Log {self.log_path}, last lines:\n{self.log_tail()}",
                pytrace=False,
            )

    def ping(self, timeout=1.0):
        """Whether the worker answers a control ``ping``."""
        replies = self.celery.control.ping(destination=[self.nodename], timeout=timeout)
        return any(self.nodename in reply for reply in replies or ())

    def inspect(self, timeout=2.0):
        """A Celery ``Inspect`` of this worker (returns on its first reply)."""
        return self.celery.control.inspect(
            destination=[self.nodename], timeout=timeout, limit=1
        )

    def _task_ids(self, method):
        """Ids of the tasks that ``inspect().<method>()`` lists.

        ``None`` when the worker did not reply.
        """
        replies = getattr(self.inspect(), method)() or {}
        if self.nodename not in replies:
            return None
        return {entry.get("request", entry)["id"] for entry in replies[self.nodename]}

    def purge(self):
        """Drop the messages waiting in the queue; return how many."""
        with self.celery.connection_for_write() as conn:
            return conn.default_channel.queue_purge(self.queue) or 0

    def delete_queue(self):
        """Delete the queue (and its binding) from the broker."""
        with self.celery.connection_for_write() as conn:
            conn.default_channel.queue_delete(self.queue)

    def drain(self, timeout=30.0, grace=3.0):
        """Bring the worker back to idle between two tests.

        Purges the queue until the worker has nothing active, reserved or
        scheduled; tasks still there after ``grace`` seconds are revoked
        (running ones killed).
        """
        started = time.monotonic()
        revoked = set()
        while True:
            if not self.running:
                pytest.fail(
                    f"Celery worker {self.nodename} died (exit code "
                    f"{self.process.returncode}).\nLog tail:\n{self.log_tail()}",
                    pytrace=False,
                )
            self.purge()
            lists = [self._task_ids(m) for m in ("active", "reserved", "scheduled")]
            answered = all(ids is not None for ids in lists)
            active, reserved, scheduled = (ids or set() for ids in lists)
            waiting = reserved | scheduled
            if answered and not active and waiting <= revoked:
                return
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                state = (
                    f"active {sorted(active)}, waiting {sorted(waiting)}"
                    if answered
                    else "no reply to inspect"
                )
                pytest.fail(
                    f"Celery worker {self.nodename} still busy after "
                    f"{timeout:.0f} s: {state}.\nLog tail:\n{self.log_tail()}",
                    pytrace=False,
                )
            new = (active | waiting) - revoked
            if elapsed > grace and new:
                self.celery.control.revoke(
                    sorted(new),
                    terminate=True,
                    signal="SIGKILL",
                    destination=[self.nodename],
                )
                revoked |= new
            time.sleep(0.1)

    def group_processes(self):
        """Live (non-zombie) processes of the worker's process group."""
        if self.process is None:
            return []
        found = []
        for proc in psutil.process_iter(["pid", "status"]):
            try:
                if os.getpgid(proc.pid) != self.process.pid:
                    continue
                if proc.info["status"] != psutil.STATUS_ZOMBIE:
                    found.append(proc)
            except (OSError, psutil.Error):
                continue
        return found

    def stop(self, grace=10.0):
        """Stop the worker and every process of its group.

        SIGTERM (warm shutdown) to the main process, SIGKILL to the whole
        process group after ``grace`` seconds or once the main process is
        gone. Returns the processes that survived (should be none).
        """
        if self.process is None:
            return []
        self.stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)
        deadline = time.monotonic() + 5
        survivors = self.group_processes()
        while survivors and time.monotonic() < deadline:
            time.sleep(0.1)
            survivors = self.group_processes()
        if self._log is not None:
            self._log.close()
            self._log = None
        return survivors

    def log_text(self):
        """The worker log so far."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fp:
                return fp.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=60):
        """The last ``lines`` lines of the worker log."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fp:
                return "".join(deque(fp, maxlen=lines))
        except FileNotFoundError:
            return "(no log)"

    def wait_for_log(self, pattern, timeout=30.0, interval=0.1):
        """Wait until the log matches the regular expression ``pattern``.

        Ends the test's database transaction first (see
        :func:`end_transaction`). Returns the match; fails the test with the
        log tail on timeout.
        """
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        end_transaction()
        while True:
            match = regex.search(self.log_text())
            if match:
                return match
            if time.monotonic() > deadline:
                pytest.fail(
                    f"worker log did not match {pattern!r} within {timeout} s.\n"
                    f"Log tail:\n{self.log_tail()}",
                    pytrace=False,
                )
            time.sleep(interval)


@pytest.fixture(scope="module")
def start_worker(
    request, app, app_config, worker_database, integration_celery, instance_path
):
    """Start another worker with this module's configuration.

    ``start_worker(queue=None, name=None)`` returns a started
    :class:`WorkerProcess`; it is stopped at the end of the module if the
    test did not stop it. Most tests want ``celery_worker_process``.
    """
    config = worker_app_config(app_config)
    log_dir = os.environ.get(LOG_DIR_ENV) or instance_path
    os.makedirs(log_dir, exist_ok=True)
    started = request.node.stash.setdefault(_WORKERS, [])

    def _start(queue=None, name=None):
        worker = WorkerProcess(
            integration_celery,
            config,
            queue or config["CELERY_TASK_DEFAULT_QUEUE"],
            log_dir,
            request.config.rootpath,
            name=name,
        )
        started.append(worker)
        return worker.start()

    yield _start
    leftovers = []
    for worker in started:
        leftovers += worker.stop()
        try:
            worker.delete_queue()
        except Exception:  # pragma: no cover - best effort
            pass
    assert not leftovers, f"worker processes survived: {leftovers}"


@pytest.fixture(scope="module")
def celery_worker_process(start_worker):
    """The module's Celery worker process, started and answering ping."""
    return start_worker()


def _module_workers(item):
    """The workers started for the module of the test ``item``."""
    module = item.getparent(pytest.Module)
    return module.stash.get(_WORKERS, []) if module is not None else []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Bring the module's workers back to idle before any fixture teardown.

    Runs before the fixtures' finalizers, so that the worker no longer
    writes to the database or the search indices that ``committed_db`` and
    ``search_clear`` clean. A failure to drain is reported after the
    fixtures were torn down.
    """
    failure = None
    workers = [w for w in _module_workers(item) if not w.stopped]
    if workers:
        end_transaction()
    for worker in workers:
        try:
            worker.drain()
        except pytest.fail.Exception as error:
            failure = failure or error
    result = yield
    if failure is not None:
        raise failure
    return result


@pytest.fixture()
def committed_db(request, search_clear, worker_database):
    """The database with real commits, visible to the worker.

    Unlike pytest-invenio's ``db``, nothing is rolled back: after the test
    (and after the worker went idle, see ``pytest_runtest_teardown``) every
    row of every table is deleted, and the search indices are cleared. Cannot
    be combined with ``db`` (whose session would hide the rows from the
    worker).
    """
    if "db" in request.fixturenames:
        pytest.fail(
            "committed_db cannot be used together with the db fixture "
            "(directly or through another fixture such as users)",
            pytrace=False,
        )
    yield worker_database
    worker_database.session.rollback()
    worker_database.session.remove()
    with worker_database.engine.begin() as conn:
        for table in reversed(worker_database.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture()
def create_workflow(workflows_service, committed_db):
    """Create (and commit) a workflow as the system, for the worker to see.

    ``params=None`` gives ``{"file_id": "f-1"}``; ``params={}`` is kept as is.
    Returns with no database transaction open (see :func:`end_transaction`).
    """
    from invenio_access.permissions import system_identity

    def _create(name="pdf-plots", params=None, owner=None, **data):
        params = {"file_id": "f-1"} if params is None else params
        body = {"name": name, "params": params, **data}
        owner_value = {"user": str(owner.id)} if owner is not None else None
        item = workflows_service.create(system_identity, body, owner=owner_value)
        # Reads after the commit may have opened a transaction: on SQLite it
        # would hold the write lock that the worker needs.
        end_transaction()
        return item

    return _create


@pytest.fixture()
def wait_for(request):
    """Poll ``predicate()`` until it returns something truthy, and return that.

    ``wait_for(predicate, timeout=30, interval=0.1, what=None)``: the
    SQLAlchemy session's transaction is ended before each call (so the
    predicate sees what the worker committed since) and after it (so that no
    lock is held while waiting); an exception raised by the predicate counts
    as "not yet". On timeout the test fails with the last value or
    exception and the tail of the log of the module's running workers.
    """

    def _wait_for(predicate, timeout=30.0, interval=0.1, what=None):
        deadline = time.monotonic() + timeout
        while True:
            end_transaction(strict=True)
            error = None
            try:
                value = predicate()
            except Exception as exc:
                value, error = None, exc
            # Never sleep inside a transaction: on SQLite every transaction
            # holds the write lock (BEGIN IMMEDIATE) and would starve the
            # worker.
            end_transaction(strict=True)
            if value:
                return value
            if time.monotonic() > deadline:
                break
            time.sleep(interval)
        what = what or getattr(predicate, "__name__", repr(predicate))
        lines = [f"wait_for: {what} not true after {timeout} s"]
        if error is not None:
            lines.append(f"last error: {type(error).__name__}: {error}")
        else:
            lines.append(f"last value: {value!r}")
        for worker in _module_workers(request.node):
            if not worker.stopped:
                lines.append(f"worker log ({worker.log_path}), last lines:")
                lines.append(worker.log_tail())
        pytest.fail("\n".join(lines), pytrace=False)

    return _wait_for

# SPDX-License-Identifier: MIT
"""Bare Celery vs Celery's database backend vs this module, on one machine.

Three systems run the same no-op workloads, each through a REAL Celery
worker subprocess (prefork, concurrency 2, prefetch multiplier 1), on the
same PostgreSQL and Redis:

1. ``celery-redis``: bare Celery, Redis broker, Redis result backend;
2. ``celery-db``: bare Celery, Redis broker, result backend
   ``db+postgresql://`` on the benchmark's PostgreSQL database (a chord
   falls back to Celery's ``chord_unlock`` polling task, as it does there);
3. ``module``: this module. The benchmark process calls
   ``current_workflows_service.create(system_identity, {"name": ...,
   "start": True})`` in a Flask app context, then polls the ``json`` column
   of ``workflows_workflow`` until the status is ``succeeded``/``failed``.
   The worker is the REST API app (``invenio_app.factory.create_api``) with
   acks late, as in the integration tests (``benchmarks/bench_app.py``).

Workloads (``benchmarks/bench_tasks.py``, ``benchmarks/bench_celery.py``):
chains of 10, 100 and 500 no-op tasks (each gets its parent's result as
first argument) and fan-ins of 100 and 1,000 no-op tasks into one collector
(Celery: ``chord(group(...), collector.s())``; the module: the definition
``chain(group(...), collect.s())``). Runs are interleaved: each repetition
of a case runs on systems 1, 2 and 3 in turn, and the cases go in rounds
(round 1: every case once, round 2: every case again, ...) so that a change
of the machine's load spreads over all of them. The table gives MEDIANS
(seconds from the send/create call until the result is there) and the
ratios module/bare Celery and module/Celery DB backend.

Time budget: ``--repetitions`` (5) and ``--big-repetitions`` (3, for the
1,000-task fan-in) are maxima. Every selected case runs at least once; a
further repetition is skipped when the command would no longer finish
within ``--budget`` seconds (560 by default, so that the whole command stays
under 10 minutes), estimated from the case's previous repetition plus the
time kept for the HTTP, seeding and reindex phases. The table says which
cases were cut and the ``n`` column how many repetitions each got;
``--budget 0`` removes the limit.

Also measured:

* create(start=True) of a 1,000-task workflow: the duration of the
  ``create`` call in the module's ``group 1000 -> 1`` runs (1,001 tasks),
  and, for reference, their time until finished (the fan-in row);
* SQL writes per task run, COUNTED: every process that talks to PostgreSQL
  (the module's worker children, the Celery DB backend's worker children and
  the benchmark process itself) counts, with a SQLAlchemy
  ``after_cursor_execute`` listener, its INSERT/UPDATE/DELETE executions
  and those of a ``WITH`` that holds one (data-modifying CTEs; an
  ``executemany`` counts once) with the rows the driver reported for them
  (``cursor.rowcount``: only the outer statement's for a ``WITH``), all its
  statements, and its commits (``benchmarks/bench_sql.py``); workers write
  their totals to a file per process after each task. Divided by the tasks
  of the workload. The true number of rows written comes from
  PostgreSQL's own ``pg_stat_user_tables``
  (n_tup_ins + n_tup_upd + n_tup_del) over the warm-up and all the runs
  (read 11 s after the last run: an idle backend publishes its counters
  within 10 s): tables ``celery_*`` for the Celery DB backend, the others
  for the module;
* ``GET /workflows/{id}`` and ``GET /workflows/{id}/tasks`` of a 1,001-task
  workflow (the last ``group 1000 -> 1`` run; a created, unstarted one when
  that case is skipped) through the real HTTP API: the REST API app in a
  single-threaded werkzeug server subprocess on 127.0.0.1, p50/p95;
* search: ``GET /workflows?status=succeeded`` over 10,000 succeeded
  workflows (clones, by SQL, of a one-task workflow that really ran), p50/p95;
* reindex: ``invenio workflows reindex`` over those workflows and their
  tasks (plus those of the runs), in-process through Flask's CLI runner as
  ``benchmarks/reindex.py`` does, after the indices were recreated empty;
  the command's own records/s figure.

Usage (from the repository root)::

    WORKFLOWS_SERVICES_DIR=/tmp/bench-services WORKFLOWS_PG_PORT=5440 \\
        WORKFLOWS_REDIS_PORT=6390 bash scripts/services.sh start
    source /tmp/bench-services/env
    .venv/bin/python benchmarks/compare.py --output benchmarks/results/after.txt

Options: ``--db`` / ``--redis`` (default: ``SQLALCHEMY_DATABASE_URI`` and
``WORKFLOWS_TEST_REDIS_URL``), ``--search-hosts`` (default: ``SEARCH_HOSTS``
or an embedded osmem-server started here), ``--repetitions`` (5),
``--big-repetitions`` (3, for the 1,000-task fan-in), ``--case-repetitions
chain500=1`` (repeatable), ``--budget`` (560 s; 0 = none), ``--note TEXT``
(printed under the table), ``--only``/``--skip`` with case names
(``chain10 chain100 chain500 group100 group1000``) and phases (``http
search``; ``search`` includes the reindex), ``--search-workflows``
(10,000), ``--http-requests`` / ``--search-requests`` (50 each),
``--quick`` (1 repetition, 1,000 search workflows, 10 requests: a smoke
test), ``--timeout`` (seconds per run), ``--keep-run-dir`` (keep the
workers' logs and counter files) and ``--output``. Progress goes to stderr,
the table to stdout (and to ``--output``).
To measure another checkout of the package, put it first on the path, e.g.
``PYTHONPATH=/work/before python benchmarks/compare.py``: the benchmark
prints which ``invenio_workflow_records`` it and its worker imported (and
stops if they differ).

WARNING: the benchmark DROPS the ``public`` schema of the database it is
given (every table) and recreates the tables; it deletes and recreates its
search indices (prefix ``bench-compare-``). Only point it at a throw-away
database, never at the test suite's or any you care about. The default run
takes at most about 10 minutes (``--budget`` plus the shutdown), unless the
first repetition of the cases alone takes longer.
"""

import argparse
import ast
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from urllib.parse import urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import bench_sql  # noqa: E402

SYSTEMS = ("celery-redis", "celery-db", "module")
SYSTEM_TITLES = {
    "celery-redis": "bare Celery",
    "celery-db": "Celery DB bknd",
    "module": "module",
}


class Case:
    """One workload: a chain or a fan-in of no-op tasks."""

    def __init__(self, name, title, kind, width, definition, big=False):
        """``width`` no-op tasks, in a chain or a group (+1 collector)."""
        self.name = name
        self.title = title
        self.kind = kind
        self.width = width
        self.definition = definition
        self.big = big

    @property
    def tasks(self):
        """Task runs of one execution."""
        return self.width + (1 if self.kind == "fan-in" else 0)


CASES = (
    Case("chain10", "chain of 10", "chain", 10, "bench-chain-10"),
    Case("chain100", "chain of 100", "chain", 100, "bench-chain-100"),
    Case("chain500", "chain of 500", "chain", 500, "bench-chain-500"),
    Case("group100", "group 100 -> 1", "fan-in", 100, "bench-group-100"),
    Case("group1000", "group 1000 -> 1", "fan-in", 1000, "bench-group-1000", big=True),
)
CASE_NAMES = tuple(case.name for case in CASES)
PHASES = ("http", "search")

FINISHED = ("succeeded", "failed", "stopped", "cancelled")


def log(message):
    """Progress on stderr, with the time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- command line -------------------------------------------------------------


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", default=os.environ.get("SQLALCHEMY_DATABASE_URI"))
    parser.add_argument("--redis", default=os.environ.get("WORKFLOWS_TEST_REDIS_URL"))
    parser.add_argument(
        "--search-hosts",
        default=os.environ.get("SEARCH_HOSTS"),
        help="Python literal of SEARCH_HOSTS, or a URL (default: osmem-server)",
    )
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument(
        "--big-repetitions",
        type=int,
        default=3,
        help="repetitions of the 1,000-task fan-in (default 3)",
    )
    parser.add_argument(
        "--case-repetitions",
        action="append",
        default=[],
        metavar="CASE=N",
        help="repetitions of one case (repeatable), e.g. chain500=1",
    )
    parser.add_argument(
        "--only", nargs="+", default=[], metavar="NAME", help="cases/phases to run"
    )
    parser.add_argument(
        "--skip", nargs="+", default=[], metavar="NAME", help="cases/phases to skip"
    )
    parser.add_argument("--search-workflows", type=int, default=10000)
    parser.add_argument("--http-requests", type=int, default=50)
    parser.add_argument("--search-requests", type=int, default=50)
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 1 repetition, small data"
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds allowed per run"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=560.0,
        help="seconds the whole command may take: repetitions beyond the "
        "first are cut to fit (0: no limit; default 560)",
    )
    parser.add_argument("--output", help="also write the table to this file")
    parser.add_argument(
        "--note",
        action="append",
        default=[],
        help="a line to print under the table (repeatable)",
    )
    parser.add_argument(
        "--keep-run-dir", action="store_true", help="keep logs and counters"
    )
    args = parser.parse_args(argv)
    if not args.db:
        parser.error("give --db or set SQLALCHEMY_DATABASE_URI (scripts/services.sh)")
    if not args.redis:
        parser.error("give --redis or set WORKFLOWS_TEST_REDIS_URL")
    if not args.db.startswith("postgresql"):
        parser.error(
            "--db must be a postgresql:// URL (the benchmark is for PostgreSQL)"
        )
    names = set(CASE_NAMES) | set(PHASES)
    for name in args.only + args.skip:
        if name not in names:
            parser.error(f"unknown case or phase {name!r}; known: {sorted(names)}")
    if args.quick:
        args.repetitions = args.big_repetitions = 1
        args.search_workflows = min(args.search_workflows, 1000)
        args.http_requests = min(args.http_requests, 10)
        args.search_requests = min(args.search_requests, 10)
    args.per_case = {}
    for item in args.case_repetitions:
        name, _, count = item.partition("=")
        if name not in CASE_NAMES or not count.isdigit() or int(count) < 1:
            parser.error(f"--case-repetitions {item!r}: expected CASE=N")
        args.per_case[name] = int(count)
    return args


def selected(args, name):
    """Whether the case or phase ``name`` runs."""
    if args.only and name not in args.only:
        return False
    return name not in args.skip


def repetitions(args, case):
    """Repetitions of ``case``."""
    if case.name in args.per_case:
        return args.per_case[case.name]
    return args.big_repetitions if case.big else args.repetitions


# --- processes ----------------------------------------------------------------


def free_port():
    """A TCP port free on 127.0.0.1 (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Child:
    """A subprocess of ours, in a process group of its own."""

    def __init__(self, name, command, env, run_dir):
        """Start ``command``; its output goes to ``<run_dir>/<name>.log``."""
        self.name = name
        self.log_path = os.path.join(run_dir, f"{name}.log")
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            command,
            cwd=run_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self):
        """Whether it still runs."""
        return self.process.poll() is None

    def tail(self, lines=40):
        """The end of its log."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fp:
                return "".join(fp.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace=10.0):
        """SIGTERM, then SIGKILL to its process group (ours only)."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


def child_env(extra):
    """Our environment, plus ``extra``, with benchmarks/ on the path."""
    env = dict(os.environ)
    env.update(extra)
    paths = [HERE] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    env["BENCH_PARENT_PID"] = str(os.getpid())
    return env


def worker_command(app_module, queue, nodename):
    """``celery worker`` as the integration tests run it."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        app_module,
        "worker",
        "--pool=prefork",
        "--concurrency=2",
        "--prefetch-multiplier=1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "WARNING",
        "-n",
        nodename,
        "-Q",
        queue,
    ]


def wait_for_workers(workers, timeout=120.0):
    """Wait until every worker answers ``ping``.

    ``workers``: ``{nodename: (celery app to ping with, Child)}``; each is
    pinged with an app of its own kind (Invenio's replies in msgpack).
    """
    waiting = dict(workers)
    deadline = time.monotonic() + timeout
    while waiting:
        for nodename, (control_app, child) in list(waiting.items()):
            if not child.alive():
                raise SystemExit(
                    f"worker {child.name} exited ({child.process.returncode}); "
                    f"log {child.log_path}:\n{child.tail()}"
                )
            replies = control_app.control.ping(destination=[nodename], timeout=0.5)
            if any(nodename in reply for reply in replies or ()):
                waiting.pop(nodename)
        if waiting and time.monotonic() > deadline:
            names = ", ".join(child.name for _, child in waiting.values())
            raise SystemExit(f"workers not answering ping: {names}")


# --- environment --------------------------------------------------------------


def start_search(args):
    """The search hosts, and the osmem-server we started (or None)."""
    value = args.search_hosts
    if value:
        value = value.strip()
        if value.startswith(("http://", "https://")):
            url = urlparse(value)
            return [{"host": url.hostname, "port": url.port or 9200}], None, value
        return ast.literal_eval(value), None, value
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False)
    url = urlparse(server.url)
    return [{"host": url.hostname, "port": url.port}], server, "osmem-server (embedded)"


def reset_database(engine):
    """Drop every table of the database (its public schema) and recreate it."""
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def reset_indices():
    """Delete and recreate the search indices of the app."""
    from invenio_search import current_search

    list(current_search.delete(ignore=[400, 404]))
    list(current_search.create(ignore_existing=True))


def git_description(path):
    """``<commit>`` (+ ``dirty``) of the checkout holding ``path``."""

    def git(*argv):
        return subprocess.run(
            ["git", "--no-optional-locks", "-C", path, *argv],
            capture_output=True,
            text=True,
            timeout=20,
        )

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return "not a git checkout"
    dirty = git("diff", "--quiet", "HEAD", "--", ".").returncode != 0
    return head.stdout.strip() + (" + uncommitted changes" if dirty else "")


# --- measurements -------------------------------------------------------------


class Counters:
    """SQL counted by the workers of a role and by this process."""

    def __init__(self, directory, role):
        """Counters of the worker files of ``role`` (None: none)."""
        self.directory = directory
        self.role = role

    def snapshot(self):
        """Current totals: ``{"worker": {...}, "client": {...}}``."""
        worker = (
            bench_sql.read_totals(self.directory, self.role)
            if self.role
            else dict.fromkeys(bench_sql.COUNTS, 0)
        )
        return {"worker": worker, "client": dict(bench_sql.COUNTS)}

    def settled(self, timeout=5.0, quiet=0.2):
        """A snapshot once the worker files stopped changing for ``quiet`` s."""
        last = self.snapshot()
        if not self.role:
            return last
        stable_since = time.monotonic()
        deadline = stable_since + timeout
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.snapshot()
            if now["worker"] != last["worker"]:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= quiet:
                break
        return last


def delta(after, before):
    """``after - before``, per part and key."""
    return {
        part: {key: after[part][key] - before[part][key] for key in after[part]}
        for part in after
    }


class Poller:
    """Polls PostgreSQL in autocommit mode (always the latest commits)."""

    def __init__(self, db_uri):
        """Own engine, one connection."""
        from sqlalchemy import create_engine

        self.engine = create_engine(db_uri, isolation_level="AUTOCOMMIT")
        self.conn = self.engine.connect()

    def value(self, sql, **params):
        """The first column of the first row, or None."""
        from sqlalchemy import text

        row = self.conn.execute(text(sql), params).first()
        return row[0] if row else None

    def wait(self, sql, done, timeout, interval=0.01, **params):
        """Poll ``sql`` until ``done(value)``; return the value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.value(sql, **params)
            if done(value):
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still {value!r} after {timeout:.0f} s")
            time.sleep(interval)

    def close(self):
        """Close the connection."""
        self.conn.close()
        self.engine.dispose()


def pg_table_writes(poller):
    """``{table: n_tup_ins + n_tup_upd + n_tup_del}`` of the user tables."""
    from sqlalchemy import text

    poller.conn.execute(text("SELECT pg_stat_clear_snapshot()"))
    rows = poller.conn.execute(
        text(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del "
            "FROM pg_stat_user_tables"
        )
    ).all()
    return {name: int(count) for name, count in rows}


class Bench:
    """The systems, their workers and the measurements."""

    def __init__(self, args, run_dir, app, settings, started):
        """Everything but the workers, which :meth:`start_workers` starts."""
        self.args = args
        self.started = started
        # Flask-CeleryExt's ``celery`` is Celery's ``current_app`` proxy:
        # keep the app itself (made current again before each module run).
        self.module_celery = app.extensions[
            "flask-celeryext"
        ].celery._get_current_object()
        self.run_dir = run_dir
        self.app = app
        self.settings = settings
        self.counters_dir = settings["counters_dir"]
        self.children = []
        self.poller = Poller(args.db)
        token = uuid.uuid4().hex[:8]
        self.queues = {system: f"bench-{system}-{token}" for system in SYSTEMS}
        self.queues["module"] = settings["queue"]
        self.nodes = {
            system: f"bench-{system}-{token}@{socket.gethostname()}"
            for system in SYSTEMS
        }
        self.db_backend = "db+" + args.db
        import bench_celery

        self.celery_apps = {
            "celery-redis": bench_celery.make_app(
                args.redis, args.redis, self.queues["celery-redis"], "bench-redis"
            ),
            "celery-db": bench_celery.make_app(
                args.redis, self.db_backend, self.queues["celery-db"], "bench-db"
            ),
        }
        self.results = {}  # (case, system) -> list of dicts
        self.notes = []
        self.http_server = None
        self.http_url = None
        self.last_big_workflow = None
        self.warmup_tasks = {}

    # workers

    def start_workers(self):
        """Start the three workers (and the HTTP server) and wait for them."""
        import bench_celery

        # The Celery DB backend's tables, created once here (not raced by
        # the worker children).
        self.celery_apps["celery-db"].backend.ResultSession().close()
        for system, app in self.celery_apps.items():
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(self.queues[system])
        with self.module_celery.connection_for_write() as conn:
            conn.default_channel.queue_purge(self.queues["module"])

        workers = {}
        for system in ("celery-redis", "celery-db"):
            config = {
                "broker": self.args.redis,
                "backend": (
                    self.args.redis if system == "celery-redis" else self.db_backend
                ),
                "queue": self.queues[system],
                "counters_dir": self.counters_dir if system == "celery-db" else None,
                "role": "celerydb",
            }
            child = Child(
                f"worker-{system}",
                worker_command("bench_celery", self.queues[system], self.nodes[system]),
                child_env({bench_celery.CONFIG_ENV: json.dumps(config)}),
                self.run_dir,
            )
            self.children.append(child)
            workers[self.nodes[system]] = (self.celery_apps[system], child)
        import bench_app

        env = child_env({bench_app.CONFIG_ENV: json.dumps(self.settings)})
        child = Child(
            "worker-module",
            worker_command("bench_app", self.queues["module"], self.nodes["module"]),
            env,
            self.run_dir,
        )
        self.children.append(child)
        workers[self.nodes["module"]] = (self.module_celery, child)
        if selected(self.args, "http") or selected(self.args, "search"):
            port = free_port()
            self.http_server = Child(
                "http-server",
                [
                    sys.executable,
                    os.path.join(HERE, "bench_app.py"),
                    "serve",
                    "--port",
                    str(port),
                ],
                env,
                self.run_dir,
            )
            self.children.append(self.http_server)
            self.http_url = f"http://127.0.0.1:{port}"
        begin = time.monotonic()
        wait_for_workers(workers)
        log(f"workers ready in {time.monotonic() - begin:.1f} s")
        self.check_worker_package()

    def check_worker_package(self):
        """Stop unless the module's worker imported our invenio_workflow_records."""
        import invenio_workflow_records

        path = os.path.join(self.run_dir, "module-worker-ready.json")
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise SystemExit("the module's worker did not write its ready file")
            time.sleep(0.1)
        time.sleep(0.1)
        with open(path) as fp:
            theirs = json.load(fp)["package"]
        ours = invenio_workflow_records.__file__
        if os.path.realpath(theirs) != os.path.realpath(ours):
            raise SystemExit(
                f"the worker imported {theirs}, the benchmark {ours}: fix PYTHONPATH"
            )
        log(f"benchmark and worker import {ours}")

    def stop(self):
        """Stop our subprocesses and delete our queues."""
        for child in reversed(self.children):
            child.stop()
        for system, app in self.celery_apps.items():
            try:
                with app.connection_for_write() as conn:
                    conn.default_channel.queue_delete(self.queues[system])
            except Exception:  # pragma: no cover - best effort
                pass
        try:
            with self.module_celery.connection_for_write() as conn:
                conn.default_channel.queue_delete(self.queues["module"])
        except Exception:  # pragma: no cover - best effort
            pass
        self.poller.close()

    def check_alive(self):
        """Fail with the log of a worker that died."""
        for child in self.children:
            if not child.alive():
                raise SystemExit(
                    f"{child.name} exited ({child.process.returncode}); log "
                    f"{child.log_path}:\n{child.tail()}"
                )

    # one run

    def run_celery(self, system, case):
        """One run of ``case`` on a bare Celery system; returns a result dict."""
        import bench_celery
        from celery import chain, chord, group

        app = self.celery_apps[system]
        app.set_current()
        noop = app.signature(bench_celery.NOOP, app=app)
        if case.kind == "chain":
            canvas = chain(*[noop.clone() for _ in range(case.width)], app=app)
        else:
            canvas = chord(
                group(*[noop.clone() for _ in range(case.width)], app=app),
                app.signature(bench_celery.COLLECT, app=app),
                app=app,
            )
        counters = Counters(
            self.counters_dir, "celerydb" if system == "celery-db" else None
        )
        before = counters.snapshot()  # the previous run's end was settled
        begin = time.monotonic()
        result = canvas.apply_async()
        if system == "celery-redis":
            result.get(timeout=self.args.timeout, propagate=True)
        else:
            # Same way as for the module: poll the row in PostgreSQL.
            state = self.poller.wait(
                "SELECT status FROM celery_taskmeta WHERE task_id = :id",
                lambda value: value in ("SUCCESS", "FAILURE"),
                self.args.timeout,
                id=result.id,
            )
            if state != "SUCCESS":
                raise SystemExit(f"{system} {case.name}: the last task is {state}")
        seconds = time.monotonic() - begin
        after = counters.settled()
        return {"seconds": seconds, "sql": delta(after, before), "tasks": case.tasks}

    def create_workflow(self, definition, start):
        """``create`` through the service; returns (id, seconds of the call)."""
        from invenio_access.permissions import system_identity
        from invenio_db import db

        from invenio_workflow_records.proxies import current_workflows_service

        self.module_celery.set_current()
        begin = time.monotonic()
        item = current_workflows_service.create(
            system_identity, {"name": definition, "start": start}
        )
        seconds = time.monotonic() - begin
        workflow_id = str(item.id)
        db.session.remove()
        return workflow_id, seconds

    def wait_workflow(self, workflow_id, timeout):
        """Poll the workflow's status until it is finished; return it."""
        return self.poller.wait(
            "SELECT json->>'status' FROM workflows_workflow "
            "WHERE id = CAST(:id AS uuid)",
            lambda value: value in FINISHED,
            timeout,
            id=workflow_id,
        )

    def run_module(self, case, definition=None):
        """One run through the module; returns a result dict."""
        counters = Counters(self.counters_dir, "module")
        before = counters.snapshot()  # the previous run's end was settled
        begin = time.monotonic()
        workflow_id, create_seconds = self.create_workflow(
            definition or case.definition, start=True
        )
        status = self.wait_workflow(workflow_id, self.args.timeout)
        seconds = time.monotonic() - begin
        if status != "succeeded":
            raise SystemExit(f"module {case.name}: workflow {workflow_id} {status}")
        after = counters.settled()
        return {
            "seconds": seconds,
            "create_seconds": create_seconds,
            "sql": delta(after, before),
            "tasks": case.tasks,
            "workflow_id": workflow_id,
        }

    def run(self, system, case):
        """One run of ``case`` on ``system``."""
        if system == "module":
            result = self.run_module(case)
            if case.name == "group1000":
                self.last_big_workflow = result["workflow_id"]
        else:
            result = self.run_celery(system, case)
        self.check_alive()
        return result

    # phases

    def warm_up(self):
        """One small run per system (not measured); returns the template id."""
        log("warm-up runs")
        small = Case("warmup", "warm-up", "chain", 10, "bench-chain-10")
        fan_in = Case("warmup", "", "fan-in", 10, "")
        for system in ("celery-redis", "celery-db"):
            self.run_celery(system, small)
            self.run_celery(system, fan_in)
        self.run_module(small)
        single = Case("single", "single", "chain", 1, "bench-single")
        # Tasks run outside the measured runs (for the pg_stat cross-check).
        self.warmup_tasks = {
            "celery-db": small.tasks + fan_in.tasks,
            "module": small.tasks + single.tasks,
        }
        return self.run_module(single)["workflow_id"]

    def reserve(self):
        """Seconds to keep for the phases after the latency runs (estimate)."""
        seconds = 25.0  # stats settling (11 s), stopping workers and servers
        if selected(self.args, "http"):
            seconds += 30.0
        if selected(self.args, "search"):
            module_tasks = sum(
                result["tasks"]
                for (case, system), results in self.results.items()
                if system == "module"
                for result in results
            )
            # reindex of the seeded workflows, their tasks and the runs' tasks
            seconds += 20.0 + (2 * self.args.search_workflows + module_tasks) / 400.0
        return seconds

    def latency(self):
        """The cases, in rounds; systems 1, 2, 3 in turn for each repetition.

        Round 1 runs every selected case once; each later round runs again
        every case that has not reached its repetitions, unless the time
        budget (``--budget``, counted from the start of the command, with
        :meth:`reserve` kept for what follows) cannot afford another
        repetition of it, estimated from its previous one.
        """
        cases = [case for case in CASES if selected(self.args, case.name)]
        target = {case.name: repetitions(self.args, case) for case in cases}
        done = dict.fromkeys(target, 0)
        cost = {}
        cut = {}
        budget = self.args.budget
        first_round_end = None
        while True:
            progressed = False
            for case in cases:
                if done[case.name] >= target[case.name] or case.name in cut:
                    continue
                elapsed = time.monotonic() - self.started
                if (
                    budget
                    and done[case.name] >= 1
                    and elapsed + cost[case.name] + self.reserve() > budget
                ):
                    cut[case.name] = done[case.name]
                    log(
                        f"{case.name}: no time left for repetition "
                        f"{done[case.name] + 1} (~{cost[case.name]:.0f} s)"
                    )
                    continue
                begin = time.monotonic()
                number = done[case.name] + 1
                for system in SYSTEMS:
                    result = self.run(system, case)
                    self.results.setdefault((case.name, system), []).append(result)
                    extra = (
                        f" (create {result['create_seconds']:.3f} s)"
                        if "create_seconds" in result
                        else ""
                    )
                    log(
                        f"{case.name} #{number}/{target[case.name]} {system}: "
                        f"{result['seconds']:.3f} s{extra}"
                    )
                cost[case.name] = time.monotonic() - begin
                done[case.name] = number
                progressed = True
            if first_round_end is None:
                first_round_end = time.monotonic() - self.started
            if not progressed:
                break
        for name, count in cut.items():
            self.notes.append(
                f"{name}: {count} of {target[name]} repetitions; the time budget "
                f"(--budget {budget:.0f} s) did not allow more."
            )
        if budget and first_round_end is not None:
            if first_round_end + self.reserve() > budget:
                self.notes.append(
                    "the first repetition of every case already took the "
                    f"command to {first_round_end:.0f} s (budget {budget:.0f} s)."
                )

    def http(self, template_id):
        """GET a 1,001-task workflow and its tasks through the HTTP API."""
        import requests

        workflow_id = self.last_big_workflow
        if workflow_id is None:
            workflow_id, _ = self.create_workflow("bench-group-1000", start=False)
            self.http_target = "a created (not started) 1,001-task workflow"
        else:
            self.http_target = "a succeeded 1,001-task workflow (group 1000 -> 1)"
        session = requests.Session()
        self.wait_http(session)
        out = {}
        for label, path in (
            ("item", f"/workflows/{workflow_id}"),
            ("tasks", f"/workflows/{workflow_id}/tasks"),
        ):
            out[label] = self.time_requests(session, path, self.args.http_requests)
            log(f"GET {label}: p50 {out[label]['p50'] * 1000:.1f} ms")
        return out

    def wait_http(self, session, timeout=120.0):
        """Wait until the HTTP server answers."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.http_server.alive():
                raise SystemExit(f"the HTTP server exited:\n{self.http_server.tail()}")
            try:
                session.get(f"{self.http_url}/workflows/{uuid.uuid4()}", timeout=5)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def time_requests(self, session, path, count, warm=3):
        """p50/p95 of ``count`` GETs of ``path`` (after ``warm`` untimed ones)."""
        durations = []
        size = 0
        body = None
        for number in range(warm + count):
            begin = time.perf_counter()
            response = session.get(self.http_url + path, timeout=120)
            content = response.content
            elapsed = time.perf_counter() - begin
            if response.status_code != 200:
                raise SystemExit(
                    f"GET {path}: {response.status_code} {content[:500]!r}"
                )
            if number >= warm:
                durations.append(elapsed)
            size = len(content)
            body = response
        data = body.json()
        hits = data.get("hits") if isinstance(data, dict) else None
        return {
            "p50": percentile(durations, 50),
            "p95": percentile(durations, 95),
            "n": len(durations),
            "bytes": size,
            "returned": len(hits.get("hits", [])) if isinstance(hits, dict) else None,
            "total": total_of(hits.get("total")) if isinstance(hits, dict) else None,
        }

    def seed(self, template_id, count):
        """Clone the succeeded one-task workflow ``template_id`` ``count`` times.

        Plain SQL on the tables of the module: every column is copied, ids
        are new (md5 of a counter), ``created``/``updated`` step back one
        second per clone, a task's ``workflow_id`` (column and JSON) and
        ``celery_id`` follow its workflow.
        """
        from invenio_db import db
        from sqlalchemy import text

        status = self.poller.value(
            "SELECT json->>'status' FROM workflows_workflow WHERE id = CAST(:id AS uuid)",
            id=template_id,
        )
        tasks = self.poller.value(
            "SELECT count(*) FROM workflows_task WHERE workflow_id = CAST(:id AS uuid)",
            id=template_id,
        )
        if status != "succeeded" or tasks != 1:
            raise SystemExit(f"template {template_id}: {status}, {tasks} tasks")
        columns = {}
        for table in ("workflows_workflow", "workflows_task"):
            columns[table] = [
                row[0]
                for row in db.session.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND table_name = :t "
                        "ORDER BY ordinal_position"
                    ),
                    {"t": table},
                )
            ]
        new_wf = "md5('bench-wf-' || g)::uuid"
        new_task = "md5('bench-task-' || g)::uuid"

        def select_list(table):
            items = []
            for column in columns[table]:
                if column == "id":
                    items.append(new_wf if table == "workflows_workflow" else new_task)
                elif column == "workflow_id":
                    items.append(new_wf)
                elif column in ("created", "updated"):
                    items.append(f"{column} - make_interval(secs => g)")
                elif column == "json" and table == "workflows_task":
                    items.append(
                        "jsonb_set(jsonb_set(json, '{workflow_id}', "
                        f"to_jsonb(({new_wf})::text), false), '{{celery_id}}', "
                        f"to_jsonb(({new_task})::text || ':' || '1'), false)"
                    )
                else:
                    items.append(f'"{column}"')
            return ", ".join(items)

        begin = time.monotonic()
        for table, where in (
            ("workflows_workflow", "id"),
            ("workflows_task", "workflow_id"),
        ):
            names = ", ".join(f'"{column}"' for column in columns[table])
            db.session.execute(
                text(
                    f"INSERT INTO {table} ({names}) SELECT {select_list(table)} "
                    f"FROM {table}, generate_series(1, :n) AS g "
                    f"WHERE {where} = CAST(:template AS uuid)"
                ),
                {"n": count, "template": template_id},
            )
        db.session.commit()
        db.session.remove()
        log(f"seeded {count} workflows in {time.monotonic() - begin:.1f} s")

    def reindex(self):
        """Run ``invenio workflows reindex``; returns its figures."""
        from invenio_db import db

        from invenio_workflow_records.cli import workflows

        reset_indices()
        runner = self.app.test_cli_runner()
        begin = time.monotonic()
        result = runner.invoke(workflows, ["reindex", "--batch-size", "500"])
        seconds = time.monotonic() - begin
        db.session.remove()
        output = (result.stdout or "") + (getattr(result, "stderr", "") or "")
        if result.exit_code != 0:
            raise SystemExit(f"reindex failed ({result.exception!r}):\n{output}")
        line = [ln for ln in result.stdout.splitlines() if ln.strip()][-1]
        match = re.search(r"([\d.]+) records/s", line)
        records = sum(int(n) for n in re.findall(r"(\d+) (?:workflows|tasks)", line))
        log(f"reindex: {line.strip()}")
        return {
            "line": line.strip(),
            "rate": float(match.group(1)) if match else None,
            "records": records,
            "seconds": seconds,
        }

    def search(self):
        """``GET /workflows?status=succeeded`` through the HTTP API."""
        import requests

        session = requests.Session()
        self.wait_http(session)
        out = self.time_requests(
            session, "/workflows?status=succeeded", self.args.search_requests
        )
        hits = out["total"]
        out["hits"] = hits
        log(f"search: p50 {out['p50'] * 1000:.1f} ms, {hits} hits")
        return out


def total_of(value):
    """A search total: an int, or OpenSearch's ``{"value": n, ...}``."""
    return value.get("value") if isinstance(value, dict) else value


def percentile(values, pct):
    """The ``pct`` percentile (linear interpolation), or None."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- report -------------------------------------------------------------------


def fmt_seconds(value):
    """Seconds with 3 significant-ish digits."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value:.3f}"
    if value < 100:
        return f"{value:.2f}"
    return f"{value:.1f}"


def fmt_ratio(numerator, denominator):
    """``numerator / denominator`` as ``12.3x``."""
    if numerator is None or not denominator:
        return "-"
    ratio = numerator / denominator
    return f"{ratio:.1f}x" if ratio < 100 else f"{ratio:.0f}x"


def fmt_ms(value):
    """Milliseconds."""
    return "-" if value is None else f"{value * 1000:.1f} ms"


def table(rows, header):
    """A plain-text table."""
    widths = [
        max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))
    ]
    lines = []
    for number, row in enumerate([header] + rows):
        cells = [
            str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def median_of(results, key="seconds"):
    """Median of ``key`` over runs, or None."""
    values = [result[key] for result in results if result.get(key) is not None]
    return statistics.median(values) if values else None


def sql_per_task(results, part_keys=("worker", "client")):
    """Per-task SQL counts summed over the runs: {key: per task}."""
    tasks = sum(result["tasks"] for result in results)
    if not tasks:
        return None
    totals = dict.fromkeys(bench_sql.COUNTS, 0)
    for result in results:
        for part in part_keys:
            for key, value in result["sql"][part].items():
                totals[key] += value
    return {key: value / tasks for key, value in totals.items()}


def report(bench, header_lines, extra):
    """The whole report, as text."""
    args = bench.args
    out = list(header_lines)
    out.append("")
    out.append(
        "Latency: median seconds from the send/create call until the result "
        "is there (n = runs per system)"
    )
    rows = []
    for case in CASES:
        runs = {
            system: bench.results.get((case.name, system), []) for system in SYSTEMS
        }
        if not any(runs.values()):
            rows.append([case.title, "skipped", "", "", "", "", ""])
            continue
        medians = {system: median_of(runs[system]) for system in SYSTEMS}
        rows.append(
            [
                case.title,
                fmt_seconds(medians["celery-redis"]),
                fmt_seconds(medians["celery-db"]),
                fmt_seconds(medians["module"]),
                fmt_ratio(medians["module"], medians["celery-redis"]),
                fmt_ratio(medians["module"], medians["celery-db"]),
                str(len(runs["module"])),
            ]
        )
    out.append(
        table(
            rows,
            [
                "case",
                "bare Celery",
                "Celery DB bknd",
                "module",
                "mod/bare",
                "mod/DB",
                "n",
            ],
        )
    )

    # create + start of the 1,001-task workflow
    out.append("")
    big = bench.results.get(("group1000", "module"), [])
    if big:
        out.append(
            "create(start=True) of a 1,000-task workflow (the 1,001-task "
            f"group 1000 -> 1, median of {len(big)}): call returns after "
            f"{fmt_seconds(median_of(big, 'create_seconds'))} s, workflow "
            f"finished after {fmt_seconds(median_of(big))} s"
        )
    else:
        out.append("create(start=True) of a 1,000-task workflow: skipped (group1000)")
    small_creates = [
        f"{case.name} {fmt_seconds(median_of(bench.results[(case.name, 'module')], 'create_seconds'))} s"
        for case in CASES
        if bench.results.get((case.name, "module"))
    ]
    if small_creates:
        out.append(
            "  create(start=True) call, median per case: " + ", ".join(small_creates)
        )

    # SQL
    out.append("")
    out.append(
        "SQL writes per task run, COUNTED by a SQLAlchemy after_cursor_execute "
        "listener in every process that writes (worker children + benchmark "
        "process); executemany = 1 statement; summed over all runs / tasks run:"
    )
    rows = []
    for system, label in (("celery-db", "Celery DB backend"), ("module", "module")):
        results = [
            result
            for case in CASES
            for result in bench.results.get((case.name, system), [])
        ]
        worker = sql_per_task(results, ("worker",))
        client = sql_per_task(results, ("client",))
        total = sql_per_task(results)
        if total is None:
            rows.append([label, "-", "-", "-", "-", "-", "-"])
            continue
        pg = extra.get("pg_rows", {}).get(system)
        tasks = sum(result["tasks"] for result in results)
        pg_tasks = tasks + bench.warmup_tasks.get(system, 0)
        rows.append(
            [
                label,
                f"{total['writes']:.1f}",
                f"{total['rows']:.1f}",
                f"{total['commits']:.2f}",
                f"{worker['statements']:.1f}",
                f"{client['writes']:.2f}",
                "-" if pg is None else f"{pg / pg_tasks:.1f}",
            ]
        )
    out.append(
        table(
            rows,
            [
                "system",
                "write stmts/task",
                "rowcount/task",
                "commits/task",
                "worker stmts/task",
                "client writes/task",
                "pg_stat rows/task",
            ],
        )
    )
    out.append(
        "  (write stmts = INSERT/UPDATE/DELETE executions, or WITH holding "
        "one; rowcount = the rows the driver reported for them, of the outer "
        "statement only for a data-modifying WITH; client = the benchmark "
        "process: the module's create call, Celery's chord group save; worker "
        "stmts = all statements incl. SELECTs; "
        "pg_stat = n_tup_ins+n_tup_upd+n_tup_del of pg_stat_user_tables over "
        "the runs and the warm-up, divided by their tasks: celery_* tables vs "
        "the others)"
    )
    per_case = []
    for case in CASES:
        cells = [case.title]
        for system in ("celery-db", "module"):
            value = sql_per_task(bench.results.get((case.name, system), []))
            cells.append(
                "-" if value is None else f"{value['writes']:.1f} / {value['rows']:.1f}"
            )
        if len(cells) > 1 and cells[1:] != ["-", "-"]:
            per_case.append(cells)
    if per_case:
        out.append("  per case, write stmts / rowcount per task:")
        out.append(
            "\n".join(
                "    " + line
                for line in table(
                    per_case, ["case", "Celery DB backend", "module"]
                ).splitlines()
            )
        )

    # HTTP
    out.append("")
    rows = []
    if "http" in extra:
        http = extra["http"]
        out.append(
            f"HTTP API (werkzeug, 1 thread, 127.0.0.1); GETs of "
            f"{bench.http_target}; {http['item']['n']} timed requests each, "
            "after 3 untimed:"
        )
        tasks = http["tasks"]
        returned = (
            f" ({tasks['returned']} of {tasks['total']} tasks returned)"
            if tasks.get("returned") is not None
            else ""
        )
        rows += [
            [
                "GET /workflows/{id}",
                fmt_ms(http["item"]["p50"]),
                fmt_ms(http["item"]["p95"]),
                f"{http['item']['bytes']:,} B",
            ],
            [
                f"GET /workflows/{{id}}/tasks{returned}",
                fmt_ms(tasks["p50"]),
                fmt_ms(tasks["p95"]),
                f"{tasks['bytes']:,} B",
            ],
        ]
    else:
        out.append(
            "HTTP API (werkzeug, 1 thread, 127.0.0.1); GET /workflows/{id}[/tasks]: "
            "skipped"
        )
    if "search" in extra:
        search = extra["search"]
        rows.append(
            [
                f"GET /workflows?status=succeeded ({search['hits']:,} hits, "
                f"{search['returned']} returned; {search['n']} timed)",
                fmt_ms(search["p50"]),
                fmt_ms(search["p95"]),
                f"{search['bytes']:,} B",
            ]
        )
    if rows:
        out.append(table(rows, ["request", "p50", "p95", "response"]))
    if "reindex" in extra:
        reindex = extra["reindex"]
        out.append("")
        out.append(
            f"reindex ({extra['seeded']:,} seeded + the runs' workflows, and "
            f"their tasks): {reindex['rate']:.0f} records/s  [{reindex['line']}]"
            if reindex["rate"] is not None
            else f"reindex: {reindex['line']}"
        )
    elif selected(args, "search"):
        out.append("search/reindex: not run")
    else:
        out.append("search/reindex: skipped")
    if bench.notes or args.note:
        out.append("")
        out.extend(f"Note: {note}" for note in bench.notes + args.note)
    return "\n".join(out) + "\n"


def header(args, bench, search_label, started):
    """Lines describing the run."""
    import celery

    import invenio_workflow_records

    package = os.path.dirname(invenio_workflow_records.__file__)
    pg = bench.poller.value("SHOW server_version")
    redis_version = "?"
    try:
        import redis

        redis_version = redis.Redis.from_url(args.redis).info()["redis_version"]
    except Exception:  # pragma: no cover - informative only
        pass
    reps = ", ".join(
        f"{case.name}={repetitions(args, case)}"
        for case in CASES
        if selected(args, case.name)
    )
    skipped = [name for name in CASE_NAMES + PHASES if not selected(args, name)]
    return [
        "benchmarks/compare.py: bare Celery vs Celery DB backend vs "
        "invenio_workflow_records",
        f"date: {started:%Y-%m-%d %H:%M} UTC   machine: {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, Celery {celery.__version__}",
        f"package: {package} ({git_description(package)})",
        f"PostgreSQL {pg}, Redis {redis_version}, search: {search_label}",
        "load average at start (1/5/15 min): "
        + " ".join(f"{value:.2f}" for value in os.getloadavg())
        + " (other processes of the machine compete for its CPUs)",
        "workers: prefork, concurrency 2, prefetch multiplier 1, acks_late for "
        "the module only; log level WARNING",
        f"repetitions (at most): {reps or 'none'}"
        + (f"; skipped: {' '.join(skipped)}" if skipped else ""),
        "command: " + shlex.join([os.path.basename(sys.executable)] + sys.argv),
    ]


# --- main ---------------------------------------------------------------------


def main(argv=None):
    """Run the benchmark and print the table."""
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    begin = time.monotonic()
    run_dir = tempfile.mkdtemp(prefix="bench-compare-")
    counters_dir = os.path.join(run_dir, "counters")
    os.makedirs(counters_dir)
    log(f"run directory {run_dir}")
    bench_sql.install()

    search_hosts, osmem, search_label = start_search(args)
    bench = None
    ok = False
    try:
        import bench_app

        settings = {
            "db": args.db,
            "redis": args.redis,
            "queue": None,
            "search_hosts": search_hosts,
            "index_prefix": "bench-compare-",
            "instance_path": os.path.join(run_dir, "instance"),
            "counters_dir": counters_dir,
            "run_dir": run_dir,
        }
        os.makedirs(settings["instance_path"])
        settings["queue"] = f"bench-module-{uuid.uuid4().hex[:8]}"
        app = bench_app.create_app(settings)
        with app.app_context():
            from invenio_db import db

            log("resetting the database and the indices")
            db.session.remove()
            reset_database(db.engine)
            db.create_all()
            reset_indices()
            bench = Bench(args, run_dir, app, settings, begin)
            bench.start_workers()
            lines = header(args, bench, search_label, started)
            for line in lines:
                log(line)
            # The tables are new: the cross-check counts from here, warm-up
            # included (its tasks are added to the divisor).
            pg_before = pg_table_writes(bench.poller)
            template_id = bench.warm_up()
            bench.latency()
            extra = {}
            if bench.results:
                # An idle backend publishes its table counters within 10 s
                # (PGSTAT_IDLE_INTERVAL).
                time.sleep(11)
                pg_after = pg_table_writes(bench.poller)
                pg_rows = {"celery-db": 0, "module": 0}
                for name, value in pg_after.items():
                    system = "celery-db" if name.startswith("celery_") else "module"
                    pg_rows[system] += value - pg_before.get(name, 0)
                extra["pg_rows"] = pg_rows

            if selected(args, "http"):
                extra["http"] = bench.http(template_id)
            if selected(args, "search"):
                bench.seed(template_id, args.search_workflows)
                extra["seeded"] = args.search_workflows
                extra["reindex"] = bench.reindex()
                extra["search"] = bench.search()
            elapsed = time.monotonic() - begin
            lines.append(
                f"total time of the benchmark: {elapsed:.0f} s; load average at "
                "the end: " + " ".join(f"{value:.2f}" for value in os.getloadavg())
            )
            text = report(bench, lines, extra)
        print(text, end="")
        if args.output:
            os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
            with open(args.output, "w") as fp:
                fp.write(text)
            log(f"written to {args.output}")
        ok = True
    finally:
        if bench is not None:
            bench.stop()
        if osmem is not None:
            osmem.close()
        if ok and not args.keep_run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            log(f"logs kept in {run_dir}")


if __name__ == "__main__":
    main()

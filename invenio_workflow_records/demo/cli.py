# SPDX-License-Identifier: MIT
"""The ``invenio-workflow-records`` command: ``invenio-workflow-records demo``.

``demo`` needs no service and no configuration: it starts a throw-away
instance in a temporary directory (SQLite, osmem-server, an embedded
Valkey/Redis broker, a real Celery worker, the REST API on 127.0.0.1), runs
the example workflows while printing their transitions live, prints the
final statuses, the URLs to query and a ``curl`` line that creates and starts
a workflow with the token of a demo user (see :mod:`.access`), and serves the
REST API until Ctrl-C. With ``--once`` it checks the URLs and runs that line,
then stops. Everything it started is
stopped, and checked to be gone, before it exits.

Exit codes: 0 the examples ended as expected (or Ctrl-C after them); 1
they did not; 2 the instance could not be started; 3 timeout; 4 a process
it started survived; 130 interrupted before the examples ended.
"""

import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from contextlib import ExitStack

import click
import psutil

from .services import ApiServer, Broker, DemoError, Search, Worker, alive

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_START_FAILED = 2
EXIT_TIMEOUT = 3
EXIT_LEFTOVERS = 4
EXIT_INTERRUPTED = 130


class Stopped(Exception):
    """SIGTERM (or SIGINT) asked the demo to stop."""


def _raise_stopped(signum, frame):
    raise Stopped(signal.Signals(signum).name)


def _raise_timeout(signum, frame):
    raise TimeoutError("the demo ran out of time")


def _isolate_environment(directory):
    """Keep the user's Invenio settings out of the throw-away instance.

    ``INVENIO_*`` variables override any configuration given to the app
    factory, and the instance folder may hold an ``invenio.cfg``: the demo
    drops the former and uses an empty instance folder of its own (the
    worker inherits both).
    """
    for key in [key for key in os.environ if key.startswith("INVENIO_")]:
        del os.environ[key]
    instance = os.path.join(directory, "instance")
    os.makedirs(instance, exist_ok=True)
    os.environ["INVENIO_INSTANCE_PATH"] = instance


class Demo:
    """One run of the demo: start, run the examples, serve, stop."""

    def __init__(self, once=False, port=0, timeout=120.0, out=None):
        """A demo that serves on ``port`` (0: any free port)."""
        self.once = once
        self.port = port
        self.timeout = timeout
        self.out = out or sys.stdout
        self.began = time.monotonic()
        self.stack = ExitStack()
        self.processes = []
        self.directory = None
        self.examples_started = False
        self.examples_done = False

    def say(self, text=""):
        """Print a line."""
        print(text, file=self.out, flush=True)

    def elapsed(self):
        """Seconds since the demo began."""
        return time.monotonic() - self.began

    def run(self):
        """Run the demo; return its exit code."""
        previous = {
            signum: signal.signal(signum, handler)
            for signum, handler in (
                # Explicitly: a shell starts background jobs with SIGINT ignored.
                (signal.SIGINT, signal.default_int_handler),
                (signal.SIGTERM, _raise_stopped),
                (signal.SIGALRM, _raise_timeout),
            )
        }
        code = EXIT_OK
        try:
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
            code = self._run()
        except (Stopped, KeyboardInterrupt):
            self.say()
            self.say("Interrupted.")
            code = EXIT_OK if self.examples_done else EXIT_INTERRUPTED
        except TimeoutError as error:
            self.say(f"Error: timeout after {self.timeout:.0f} s: {error}")
            code = EXIT_TIMEOUT
        except DemoError as error:
            self.say(f"Error: {error}")
            code = EXIT_START_FAILED
        except Exception as error:
            traceback.print_exc()
            self.say(f"Error: {type(error).__name__}: {error}")
            code = EXIT_UNEXPECTED if self.examples_started else EXIT_START_FAILED
        finally:
            # Nothing may interrupt the cleanup.
            signal.setitimer(signal.ITIMER_REAL, 0)
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)
            try:
                code = self._stop(code)
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)
        return code

    def _run(self):
        self.directory = tempfile.mkdtemp(prefix="invenio-workflow-records-demo-")
        self.stack.callback(shutil.rmtree, self.directory, ignore_errors=True)
        _isolate_environment(self.directory)
        self.say(f"invenio-workflow-records demo, in {self.directory}")

        api = ApiServer(self.port)
        self.stack.callback(api.stop)

        broker = Broker(os.path.join(self.directory, "broker"))
        self.stack.callback(broker.stop)
        broker.start()
        self.processes += broker.processes
        self.say(
            f"  broker     {broker.kind} {broker.version} at {broker.url} "
            f"(pid {_pids(broker.processes)})"
        )

        search = Search()
        self.stack.callback(search.stop)
        search.start()
        self.processes += search.processes
        self.say(
            f"  search     osmem-server {search.version} at {search.url} "
            f"(pid {_pids(search.processes)})"
        )

        from .access import create_api_user
        from .app import create_demo_app, demo_config

        config = demo_config(self.directory, search.hosts, broker.url, api.url)
        worker = Worker(config, self.directory, reap=broker.processes)
        self.stack.callback(self._stop_worker, worker)
        worker.start()
        self.processes += worker.processes
        self.say(
            f"  worker     celery worker --pool=prefork --concurrency=2 "
            f"(pid {worker.process.pid}), log {worker.log_path}"
        )

        app = create_demo_app(config)
        context = app.app_context()
        context.push()
        self.stack.callback(context.pop)
        self._create_storage(config)
        self.say(f"  database   {config['SQLALCHEMY_DATABASE_URI']}")

        api_user = create_api_user()
        api.start(app)
        self.say(f"  REST API   {api.url}/  (e.g. {api.url}/workflows)")
        self.say(
            f"  API user   {api_user.email} (workflows-admin), token "
            f"{api_user.token}"
        )

        celery = app.extensions["flask-celeryext"].celery
        deadline = self.began + self.timeout
        ready = worker.wait_ready(celery, deadline)
        self.processes += worker.processes
        self.say(
            f"Ready in {self.elapsed():.1f}s (the worker answered ping "
            f"{ready:.1f}s after its start)."
        )
        self.say()

        from .examples import Examples
        from .monitor import TransitionMonitor

        self.examples_started = True
        examples = Examples(TransitionMonitor(out=self.out), self.out)
        problems = examples.run(deadline)
        urls = examples.summary(api.url, api_user)
        if self.once:
            examples.check_api(urls, deadline)
            problems = examples.problems
        self.examples_done = True
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.say()
        if problems:
            for problem in problems:
                self.say(f"Unexpected: {problem}")
            self.say(f"Worker log ({worker.log_path}), last lines:")
            self.say(worker.log_tail())
        else:
            self.say(
                "The examples ended as expected (pdf-plots succeeded; "
                "flaky-import failed, then succeeded after the resume)."
            )
        if self.once:
            return EXIT_UNEXPECTED if problems else EXIT_OK
        self.say("Serving the REST API; press Ctrl-C to stop everything.")
        while True:
            time.sleep(0.5)
            if not worker.running:
                self.say("The Celery worker exited; stopping.")
                return EXIT_UNEXPECTED

    @staticmethod
    def _create_storage(config):
        """WAL mode for the SQLite file, the tables and the search indices."""
        from invenio_db import db
        from invenio_search import current_search

        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
        finally:
            raw.close()
        db.create_all()
        db.session.remove()
        list(current_search.create(ignore_existing=True))

    def _stop_worker(self, worker):
        self.processes += worker.processes
        worker.stop()

    def _stop(self, code):
        """Stop everything, check that nothing is left; the final exit code."""
        self.say("Stopping everything the demo started.")
        try:
            self.stack.close()
        except Exception as error:  # report, and still check the processes
            self.say(f"Error while stopping: {type(error).__name__}: {error}")
            code = code or EXIT_UNEXPECTED
        left = alive(self.processes + psutil.Process().children(recursive=True))
        if left:
            for process in left:
                try:
                    command = " ".join(process.cmdline())
                except psutil.Error:
                    command = "?"
                self.say(f"Error: still running: pid {process.pid}: {command}")
            return code or EXIT_LEFTOVERS
        removed = self.directory and not os.path.exists(self.directory)
        self.say(
            f"Stopped {len({p.pid for p in self.processes})} processes"
            + (", removed the temporary directory" if removed else "")
            + f"; the demo ran {self.elapsed():.1f}s."
        )
        return code


def _pids(processes):
    return ", ".join(str(process.pid) for process in processes) or "?"


@click.group()
def main():
    """Tools of invenio-workflow-records."""


@main.command()
@click.option(
    "--once",
    is_flag=True,
    help="Stop after the examples (exit code 0 if they ended as expected).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port of the REST API on 127.0.0.1 (0: a free port).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="Seconds for starting the instance and running the examples.",
)
def demo(once, port, timeout):
    """Run example workflows on a throw-away instance (no setup needed).

    Starts an SQLite database, an embedded search server and broker, a
    Celery worker and the REST API on 127.0.0.1 in a temporary directory,
    runs two example workflows while printing their transitions, prints a
    curl line that creates a workflow with a demo user's token, then serves
    the REST API until Ctrl-C. Everything is stopped and removed at the end.
    """
    sys.exit(Demo(once=once, port=port, timeout=timeout).run())


if __name__ == "__main__":  # pragma: no cover
    main()

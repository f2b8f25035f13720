# SPDX-License-Identifier: MIT
"""Celery application of the integration tests' worker process.

The ``celery_worker_process`` fixture runs::

    python -m celery -A tests.integration.worker_app worker ...

with the test application's configuration, as JSON, in the environment
variable ``WORKFLOWS_TEST_APP_CONFIG``. This module builds the same Invenio
REST API application from it (``invenio_app.factory.create_api``), so that
the worker uses the test's database, search cluster, index prefix, broker,
queue and workflow definitions, and exposes its Celery app as ``celery``.

Values that JSON cannot carry travel as import strings; see
:func:`load_config`. Without the environment variable (e.g. when pytest
imports this module while collecting doctests) nothing is built and
``flask_app`` and ``celery`` are ``None``.
"""

import importlib
import json
import os
import signal
import threading
import time

from werkzeug.utils import import_string

CONFIG_ENV = "WORKFLOWS_TEST_APP_CONFIG"
"""Environment variable holding the application configuration, as JSON."""

PARENT_ENV = "WORKFLOWS_TEST_PARENT_PID"
"""Environment variable with the pid of the pytest process that started us."""

IMPORT_STRING_KEYS = {"SQLALCHEMY_ENGINE_OPTIONS": ("poolclass",)}
"""Config values given as ``"module:name"`` import strings, by key."""

TASK_MODULES = (
    "tests.mock_module.tasks",
    "tests.mock_module.integration_tasks",
)
"""Modules with the tasks the worker must know (imported at start)."""


def load_config(environ=None):
    """The application configuration given in ``WORKFLOWS_TEST_APP_CONFIG``.

    The import strings of :data:`IMPORT_STRING_KEYS` (e.g.
    ``SQLALCHEMY_ENGINE_OPTIONS["poolclass"]``) are resolved to objects.
    Returns ``None`` when the variable is not set.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(CONFIG_ENV)
    if not raw:
        return None
    config = json.loads(raw)
    for key, fields in IMPORT_STRING_KEYS.items():
        value = config.get(key)
        if not isinstance(value, dict):
            continue
        config[key] = dict(value)
        for field in fields:
            if isinstance(value.get(field), str):
                config[key][field] = import_string(value[field])
    return config


def create_worker_app(config):
    """Build the Invenio API application of the worker from ``config``."""
    from invenio_app.factory import create_api

    # SQLite locking for two processes comes with the extension
    # (invenio_workflow_records.sqlite), as in the test process.
    flask_app = create_api(**config)
    for module in TASK_MODULES:
        importlib.import_module(module)
    return flask_app


def exit_with_parent(parent_pid, interval=1.0, grace=10.0):
    """End this process group when the process ``parent_pid`` is gone.

    The fixture stops the worker, but a pytest killed with SIGKILL cannot:
    the worker (in a session of its own) would otherwise consume its queue
    forever. A daemon thread of the main process watches the parent.
    """

    def _watch():
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os.killpg(os.getpgrp(), signal.SIGTERM)
        time.sleep(grace)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    thread = threading.Thread(target=_watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread


_config = load_config()

if _config is not None and os.environ.get(PARENT_ENV):
    exit_with_parent(int(os.environ[PARENT_ENV]))

flask_app = create_worker_app(_config) if _config is not None else None
"""The Flask application of the worker (``None`` without configuration).

Not named ``app``: ``celery -A <module>`` takes a module's ``app`` attribute
before its ``celery`` attribute.
"""

celery = (
    flask_app.extensions["flask-celeryext"].celery if flask_app is not None else None
)
"""The Celery application that ``celery -A`` finds."""

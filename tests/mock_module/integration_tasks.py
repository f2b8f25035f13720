# SPDX-License-Identifier: MIT
"""Workflow tasks for the integration tests (run by a real Celery worker).

State that a test must see from the worker process crosses through files
whose paths are passed as arguments, since the worker is another process and
there is no result backend.

The ``harness_*`` tasks are plain Celery tasks (not workflow tasks) that only
the tests of the harness itself use: they prove that the worker runs what
the test process sends and that it sees what the test process committed.
"""

import os
import time

from celery import shared_task
from flask_celeryext import AppContextTask

from invenio_workflow_records import workflow_task


@workflow_task
def add(x, y):
    """Add two numbers."""
    return x + y


@workflow_task
def mul(x, y):
    """Multiply two numbers."""
    return x * y


@workflow_task
def collect(results):
    """Return the results it received (e.g. from a group), as a list."""
    return list(results)


@workflow_task
def sleep_then(x, seconds=30.0, step=0.05):
    """Sleep ``seconds`` in small steps, then return ``x``.

    Long enough by default for a test to stop it while it runs.
    """
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        time.sleep(min(step, max(0.0, deadline - time.monotonic())))
    return x


@workflow_task
def fail_with(*args, message="boom"):
    """Always fail, with a ``ValueError`` carrying ``message``."""
    raise ValueError(message)


def count_attempt(path):
    """Add one to the attempt counter in the file at ``path``; return it."""
    try:
        with open(path) as fp:
            attempts = int(fp.read().strip() or 0)
    except FileNotFoundError:
        attempts = 0
    attempts += 1
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fp:
        fp.write(str(attempts))
    os.replace(tmp, path)
    return attempts


@workflow_task(
    bind=True,
    autoretry_for=(IOError,),
    max_retries=2,
    default_retry_delay=1,
    retry_backoff=False,
    retry_jitter=False,
)
def flaky(self, x, attempts_file, failures=1):
    """Raise ``IOError`` on the first ``failures`` attempts, then return.

    Attempts are counted in ``attempts_file`` (the worker is another process)
    and Celery retries after one second, at most twice: ``failures=3`` makes
    the task fail for good.
    """
    attempts = count_attempt(attempts_file)
    if attempts <= failures:
        raise IOError(f"attempt {attempts} of {failures} failing attempts")
    return {"x": x, "attempts": attempts}


@workflow_task
def echo_params(**kwargs):
    """Return the keyword arguments it received."""
    return dict(kwargs)


@shared_task(ignore_result=True)
def harness_write(path, text):
    """Harness only: write ``text`` to the file at ``path``.

    Written to a temporary file and renamed, so that a reader never sees a
    partial file.
    """
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fp:
        fp.write(text)
    os.replace(tmp, path)
    return text


@shared_task(base=AppContextTask, ignore_result=True)
def harness_count_workflows(path):
    """Harness only: write the number of ``workflows_workflow`` rows to ``path``.

    Runs in the Flask app context of the worker and reads the database
    through ``invenio_db``, like the engine does.
    """
    from invenio_db import db
    from sqlalchemy import text

    try:
        count = db.session.execute(
            text("SELECT COUNT(*) FROM workflows_workflow")
        ).scalar_one()
    finally:
        db.session.remove()
    harness_write(path, str(count))
    return count


@shared_task(base=AppContextTask, ignore_result=True)
def harness_create_workflow(name, params=None):
    """Harness only: create a workflow in the worker, through the service.

    Returns the new workflow's id. The record is committed and indexed by
    the worker, for the test process to find in the database and in search.
    """
    from invenio_access.permissions import system_identity
    from invenio_db import db

    from invenio_workflow_records.proxies import current_workflows_service

    try:
        item = current_workflows_service.create(
            system_identity, {"name": name, "params": params or {}}
        )
    finally:
        db.session.remove()
    return item.id

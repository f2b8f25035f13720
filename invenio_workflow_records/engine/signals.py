# SPDX-License-Identifier: MIT
"""Failures that happen outside the task's own code.

When a worker kills a task (hard time limit) or loses the process that ran
it, the task's code cannot record anything: the worker's main process sends
``task_failure`` instead, and this handler records the failure so the task
does not stay ``running`` forever.
"""

from billiard.exceptions import TimeLimitExceeded, WorkerLostError
from celery.signals import (
    task_failure,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

from . import runner
from .dispatch import parse_celery_id
from .transactions import run_in_transaction

KILLED = (TimeLimitExceeded, WorkerLostError)


@task_failure.connect
def record_killed_task(sender=None, task_id=None, exception=None, **kwargs):
    """Record a task killed by its worker as ``failed``."""
    from .base import WorkflowTask, error_of

    fence = parse_celery_id(task_id)
    if fence is None or not isinstance(sender, WorkflowTask):
        return
    if not isinstance(exception, KILLED):
        return  # the task's own code already recorded it
    flask_app = getattr(sender.app, "flask_app", None)
    if flask_app is None:
        return
    with flask_app.app_context():
        retry_for = flask_app.config["WORKFLOWS_DB_RETRY_SECONDS"]
        run_in_transaction(
            runner.task_failed, (fence[0], task_id, error_of(exception)), retry_for
        )


_timers = []


@worker_ready.connect
def start_recovery_timer(sender=None, **kwargs):
    """Run the recovery pass periodically in the worker's main process."""
    celery_app = getattr(sender, "app", None)
    flask_app = getattr(celery_app, "flask_app", None)
    if flask_app is None:
        return
    interval = flask_app.config.get("WORKFLOWS_RECOVERY_INTERVAL")
    if not interval:
        return
    from .recovery import RecoveryTimer

    _timers.append(RecoveryTimer(flask_app, interval).start())


@worker_shutdown.connect
def stop_recovery_timer(**kwargs):
    """Stop the recovery timer of this worker."""
    while _timers:
        _timers.pop().stop()


@worker_process_init.connect
def forget_inherited_connections(**kwargs):
    """Give a newly forked pool process database connections of its own.

    The main process holds pooled connections (its recovery timer uses
    them); a child forked later inherits their sockets, and two processes
    talking over one socket read each other's results. Dropping the
    inherited pool (without closing the parent's connections) avoids that.
    """
    from celery import current_app as current_celery

    flask_app = getattr(current_celery, "flask_app", None)
    if flask_app is None:
        return
    from invenio_db import db

    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)

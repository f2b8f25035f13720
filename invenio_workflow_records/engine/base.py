# SPDX-License-Identifier: MIT
"""The Celery task base class of every workflow task."""

import json
import time
import traceback

from celery import Task
from celery.exceptions import Ignore, Reject, Retry
from flask import current_app, has_app_context
from invenio_db import db

from . import runner
from .dispatch import parse_celery_id
from .transactions import LeaseHeartbeat, run_in_transaction


class WorkflowTask(Task):
    """Base class of every task made with :func:`workflow_task`.

    Each run of a task records its transitions on the task record, each a new
    revision: ``running`` when it starts, then ``succeeded`` (with its JSON
    result), ``failed`` (with the error) or ``retrying``; the engine then
    dispatches what became ready. The Celery id of a message names the task
    record and the attempt (``<task id>:<attempt>``): a message that is not
    the current attempt of its task, or whose workflow is stopped, is dropped
    before it runs, and its late events change nothing.

    A bound task reads ``self.workflow_id``, ``self.task_record_id`` and
    ``self.params`` (the effective params of the run), and reports progress
    with ``self.update_state(meta={"current": 3, "total": 10, "message": ""})``.
    Called outside a workflow (no fenced id), a task runs as plain Celery.
    """

    @property
    def workflow_id(self):
        """Id of the workflow record of the current run."""
        return getattr(self.request, "workflow_id", None)

    @property
    def task_record_id(self):
        """Id of the task record of the current run."""
        return getattr(self.request, "task_record_id", None)

    @property
    def params(self):
        """Effective params of the current run."""
        return getattr(self.request, "workflow_params", None)

    def __call__(self, *args, **kwargs):
        """Run the task inside the Flask app context, through the engine."""
        if has_app_context():
            return self._run_fenced(args, kwargs)
        flask_app = getattr(self.app, "flask_app", None)
        if flask_app is None:
            # A Celery app without Invenio: nothing to record.
            return self._run(args, kwargs)
        with flask_app.app_context():
            return self._run_fenced(args, kwargs)

    def _run(self, args, kwargs):
        """Call the task's function within the request Celery pushed for it.

        ``Task.__call__`` pushes a request of its own (without the message's
        id and retries) unless a worker has patched it; calling ``run``
        directly keeps ``self.request`` the real one, in workers and in eager
        mode alike.
        """
        request = self.request_stack.top
        if request is not None and not request.called_directly:
            return self.run(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def _run_fenced(self, args, kwargs):
        fence = parse_celery_id(self.request.id)
        if fence is None:
            return self._run(args, kwargs)
        task_id, _ = fence
        celery_id = self.request.id
        workflow = self._record(
            runner.task_started,
            task_id,
            celery_id,
            self.request.hostname or "eager",
            self.request.retries or 0,
        )
        if workflow is None:
            # Superseded attempt, stopped task or workflow, or a duplicate.
            return None
        # On the request: per message and per thread, not on the shared task.
        self.request.workflow_id = str(workflow.id)
        self.request.task_record_id = str(task_id)
        self.request.workflow_params = dict(workflow.get("params", {}))
        self.request.last_progress = 0.0
        heartbeat = (
            None if self.request.is_eager else LeaseHeartbeat(task_id, celery_id)
        )
        try:
            return self._run_and_record(args, kwargs, task_id, celery_id)
        finally:
            # Only once the outcome is committed: while the worker retries
            # that commit through a database outage, the lease must stay
            # alive or the recovery pass would take the attempt over.
            if heartbeat is not None:
                heartbeat.stop()

    def _run_and_record(self, args, kwargs, task_id, celery_id):
        """Run the task's function and record how it ended."""
        try:
            result = self._run(args, kwargs)
        except Retry as retry:
            self._record(
                runner.task_retrying,
                task_id,
                celery_id,
                error_of(retry.exc or retry),
                (self.request.retries or 0) + 1,
            )
            raise
        except (Ignore, Reject):
            raise
        except Exception as exc:
            self._record(runner.task_failed, task_id, celery_id, error_of(exc))
            raise
        problem = _result_problem(result)
        if problem:
            error = {"type": "ResultError", "message": problem, "traceback": ""}
            self._record(runner.task_failed, task_id, celery_id, error)
            return None
        self._record(runner.task_succeeded, task_id, celery_id, result)
        return result

    def _record(self, event, *args):
        """Run one engine event in a transaction of its own, and commit it.

        In a worker, a database that is unreachable for a moment (restart,
        failover, a dead pooled connection) does not lose the event: the
        transaction is retried with backoff for up to
        ``WORKFLOWS_DB_RETRY_SECONDS`` before the error is raised.
        """
        retry_for = 0
        if not self.request.is_eager:
            retry_for = current_app.config["WORKFLOWS_DB_RETRY_SECONDS"]
        return run_in_transaction(event, args, retry_for, self._end_transaction)

    def _end_transaction(self):
        """End the transaction that work after the commit may have opened.

        A task can run for hours: it must not hold a database transaction
        (and, on SQLite, the file's write lock) while it does. An eager task
        runs inside its caller's session, which the caller owns.
        """
        if not self.request.is_eager:
            db.session.close()

    def update_state(self, task_id=None, state=None, meta=None, **kwargs):
        """Store ``meta`` as the task record's progress (throttled)."""
        fence = parse_celery_id(task_id or self.request.id)
        if fence is None or self.workflow_id is None:
            return super().update_state(task_id, state, meta, **kwargs)
        interval = current_app.config["WORKFLOWS_PROGRESS_INTERVAL"]
        moment = time.monotonic()
        if moment - getattr(self.request, "last_progress", 0.0) < interval:
            return None
        self.request.last_progress = moment
        progress = {
            key: (meta or {})[key]
            for key in ("current", "total", "message")
            if key in (meta or {})
        }
        self._record(runner.task_progress, fence[0], self.request.id, progress)


def error_of(exc):
    """The ``error`` object of a task record."""
    return {
        "type": type(exc).__name__,
        "message": str(exc) or type(exc).__name__,
        "traceback": "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__)
        )[-8000:],
    }


def _result_problem(result):
    """Why a result cannot be stored on the task record, or None."""
    try:
        encoded = json.dumps(result)
    except (TypeError, ValueError) as error:
        return f"The task's result is not JSON-serializable: {error}"
    limit = current_app.config["WORKFLOWS_RESULT_MAX_BYTES"]
    if len(encoded.encode()) > limit:
        return (
            f"The task's result is {len(encoded.encode())} bytes, more than "
            f"WORKFLOWS_RESULT_MAX_BYTES ({limit})."
        )
    return None

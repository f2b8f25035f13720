# SPDX-License-Identifier: MIT
"""Sending ready tasks to Celery: inputs, params and the fenced message id."""

import inspect
import uuid

from celery import current_app as current_celery
from flask import current_app
from invenio_records_resources.services.uow import Operation

from .timestamps import now


def celery_id_for(task):
    """The Celery id of the task's current attempt: ``<task id>:<attempt>``.

    The id carries the fence: a worker compares it with the task record, so
    a message of an older attempt, or of a stopped task, never runs.
    """
    return f"{task.id}:{task['attempt']}"


def parse_celery_id(celery_id):
    """``(task record id, attempt)`` from a Celery id, or None if not ours."""
    task_id, sep, attempt = (celery_id or "").rpartition(":")
    if not sep or not attempt.isdigit():
        return None
    try:
        return uuid.UUID(task_id), int(attempt)
    except ValueError:
        return None


def accepted_params(celery_task, params, bound_positional, bound_names):
    """The params a task's function accepts and its signature does not bind."""
    try:
        signature = inspect.signature(celery_task.run)
    except (TypeError, ValueError):
        return {}
    parameters = list(signature.parameters.values())
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
    positional = [
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    taken = set(positional[:bound_positional]) | set(bound_names)
    named = {
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return {
        key: value
        for key, value in params.items()
        if key not in taken and (takes_any or key in named)
    }


def call_arguments(task, parents, params):
    """The ``(args, kwargs)`` of a task's next run.

    The parents' results come first, as Celery passes them (one result after
    a task, the list of results after a group) unless the signature is
    immutable; then the signature's own args. Keyword arguments, strongest
    first: data sent with a task restart, the signature's kwargs, the run's
    params (only the names the function accepts).
    """
    args = list(task.get("args", []))
    if task.get("input") == "single" and parents:
        args = [parents[0].get("result")] + args
    elif task.get("input") == "list":
        args = [[parent.get("result") for parent in parents]] + args
    celery_task = current_celery.tasks[task["name"]]
    signature_kwargs = task.get("kwargs", {})
    overrides = accepted_params(celery_task, task.get("overrides", {}), len(args), ())
    run_params = accepted_params(celery_task, params, len(args), signature_kwargs)
    return args, {**run_params, **signature_kwargs, **overrides}


def queue_task(task, parents, params):
    """Give a task a new attempt; the message to send: ``(name, args, kwargs, id, options)``."""
    task["attempt"] = task.get("attempt", 0) + 1
    task["celery_id"] = celery_id_for(task)
    task["queued_at"] = now()
    return call_message(task, parents, params)


def call_message(task, parents, params):
    """The message of the task's current attempt: ``(name, args, kwargs, id, options)``."""
    args, kwargs = call_arguments(task, parents, params)
    return task["name"], args, kwargs, task["celery_id"], task.get("options")


def send_message(name, args, kwargs, celery_id, options=None):
    """Publish one task message to the broker."""
    current_celery.tasks[name].apply_async(
        args=args, kwargs=kwargs, task_id=celery_id, **dict(options or {})
    )


class SendTaskOp(Operation):
    """Send one task message after the transaction that queued it commits.

    The queued row is the outbox: it was committed with ``sent_at`` set. When
    the broker refuses the message, ``sent_at`` is set back to NULL (in a
    transaction of its own) and the error is logged, never raised: the
    commit stands, and the recovery pass sends the message later.
    """

    def __init__(self, task_id, name, args, kwargs, celery_id, options=None):
        """Message of task ``name`` with the fenced id ``celery_id``."""
        self.task_id = task_id
        self.message = (name, args, kwargs, celery_id, options)

    def on_post_commit(self, uow):
        """Send the message; on failure leave it to the recovery pass."""
        try:
            send_message(*self.message)
        except Exception:
            current_app.logger.exception(
                "Could not send task message %s; the recovery pass will resend it",
                self.message[3],
            )
            mark_unsent([self.task_id])


def mark_unsent(task_ids):
    """Record that these tasks' messages were not sent (best effort)."""
    from invenio_db import db

    from .store import set_sent

    try:
        with db.engine.begin() as connection:
            set_sent(task_ids, None, connection)
    except Exception:
        # The dispatch deadline covers this case too.
        current_app.logger.exception("Could not mark task messages as unsent")


class RevokeOp(Operation):
    """Terminate a running attempt after the commit (never fails the commit)."""

    def __init__(self, celery_id):
        """Revoke the Celery task ``celery_id``."""
        self.celery_id = celery_id

    def on_post_commit(self, uow):
        """Revoke with terminate; a failure is logged (the fence still holds)."""
        try:
            current_celery.control.revoke(self.celery_id, terminate=True)
        except Exception:
            current_app.logger.exception("Could not revoke %s", self.celery_id)

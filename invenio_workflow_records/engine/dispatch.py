# SPDX-License-Identifier: MIT
"""Sending ready tasks to Celery: inputs, params and the fenced message id."""

import inspect
import uuid

from celery import current_app as current_celery
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


def queue_task(uow, task, parents, params):
    """Mark a task ``queued`` with a new attempt and send it after commit."""
    task["attempt"] = task.get("attempt", 0) + 1
    task["status"] = "queued"
    task["celery_id"] = celery_id_for(task)
    task["queued_at"] = now()
    args, kwargs = call_arguments(task, parents, params)
    uow.register(
        SendTaskOp(task["name"], args, kwargs, task["celery_id"], task.get("options"))
    )


class SendTaskOp(Operation):
    """Send one task message, after the transaction that queued it commits."""

    def __init__(self, name, args, kwargs, celery_id, options=None):
        """Message of task ``name`` with the fenced id ``celery_id``."""
        self.name = name
        self.args = args
        self.kwargs = kwargs
        self.celery_id = celery_id
        self.options = dict(options or {})

    def on_post_commit(self, uow):
        """Send the message."""
        current_celery.tasks[self.name].apply_async(
            args=self.args, kwargs=self.kwargs, task_id=self.celery_id, **self.options
        )

# SPDX-License-Identifier: MIT
"""The ``@workflow_task`` decorator."""

from celery import shared_task

from .base import WorkflowTask


def workflow_task(*args, **options):
    """Declare a workflow task, like Celery's ``shared_task``.

    Usable bare (``@workflow_task``) or with any Celery task option
    (``@workflow_task(bind=True, autoretry_for=(IOError,), max_retries=3)``).
    The task's base class is :class:`WorkflowTask`, or the ``base`` given,
    which must subclass it. ``acks_late`` and ``reject_on_worker_lost``
    default to True. The task is registered on every Celery app under
    Celery's default name, ``<module>.<function>``, unless ``name`` is given.
    """
    # Acknowledge a message only once its task ended, and give it back to
    # the broker when its worker dies: the lease fence makes the second copy
    # safe for the record (see the README, "Reliability").
    options.setdefault("acks_late", True)
    options.setdefault("reject_on_worker_lost", True)
    base = options.get("base")
    if base is None:
        options["base"] = WorkflowTask
    elif not (isinstance(base, type) and issubclass(base, WorkflowTask)):
        raise TypeError(
            "workflow_task(base=...) must be a subclass of "
            f"invenio_workflow_records.engine.WorkflowTask, got {base!r}."
        )
    return shared_task(*args, **options)

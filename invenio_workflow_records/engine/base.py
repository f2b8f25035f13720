# SPDX-License-Identifier: MIT
"""The Celery task base class of every workflow task."""

from celery import Task


class WorkflowTask(Task):
    """Base class of every task made with :func:`workflow_task`.

    It is never registered itself (Celery registers only the task objects
    built from decorated functions). The engine sets, for each run of a task,
    the id of the workflow record (``workflow_id``), the id of the task record
    (``task_record_id``) and the effective params of the run (``params``); a
    bound task reads them from ``self``.

    The execution hooks (``before_start``, ``on_success``, ``on_failure``,
    ``on_retry``, progress through ``update_state``) that record each
    transition on the task record are added by the engine; this class does
    not define them yet.
    """

    #: Id of the workflow record of the current run.
    workflow_id = None

    #: Id of the task record of the current run.
    task_record_id = None

    #: Effective params of the current run.
    params = None

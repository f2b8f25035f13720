# SPDX-License-Identifier: MIT
"""Tasks used by the definition tests."""

from celery import shared_task

from invenio_workflow_records.definitions import Workflow
from invenio_workflow_records.engine import WorkflowTask, workflow_task


@workflow_task
def a(value=None):
    """Return what it gets."""
    return value


@workflow_task
def b(value=None):
    """Return what it gets."""
    return value


@workflow_task()
def c(value=None):
    """Return what it gets."""
    return value


@workflow_task
def d(value=None):
    """Return what it gets."""
    return value


@workflow_task(bind=True, autoretry_for=(IOError,), max_retries=3)
def bound(self, value=None):
    """Return the task object and the value it gets."""
    return self, value


@workflow_task(name="custom.name", queue="video")
def named(value=None):
    """A task with an explicit name and a default queue."""
    return value


class CustomTask(WorkflowTask):
    """A subclass of the workflow task base class."""

    custom = True


@workflow_task(base=CustomTask)
def custom(value=None):
    """A task with a custom base class."""
    return value


@shared_task
def plain(value=None):
    """A plain Celery task (not a workflow task), valid in a canvas too."""
    return value


extraction = a.s(1) | b.s() | c.s()


def permissions(workflow, action):
    """A permission factory."""
    return ("permissions", action)


def default_permissions(workflow, action):
    """The default permission factory."""
    return ("default", action)


class Extraction(Workflow):
    """A class-based workflow."""

    workflow = a.s() | b.s()
    title = "Extraction"
    params_schema = {
        "type": "object",
        "properties": {"dpi": {"type": "integer", "minimum": 72}},
    }
    default_params = {"dpi": 300, "nested": {"keep": True}}
    permission_factory = permissions


class Bare(Workflow):
    """A class-based workflow that only sets its canvas."""

    workflow = a.s()


class Empty(Workflow):
    """A class-based workflow without canvas."""


class NotAWorkflow:
    """Something that is not a Workflow subclass."""

    workflow = a.s()

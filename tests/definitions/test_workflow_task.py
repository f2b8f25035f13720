# SPDX-License-Identifier: MIT
"""Tests of the ``@workflow_task`` decorator and the task base class."""

import pytest
from celery import Celery, Task

from invenio_workflow_records.engine import WorkflowTask, workflow_task

from .example_tasks import CustomTask, a, c, custom, named, plain

MODULE = "tests.definitions.example_tasks"


@pytest.fixture()
def celery_app():
    """A fresh Celery app, finalized, not set as current."""
    app = Celery("test", set_as_current=False)
    app.finalize()
    return app


def test_task_is_a_workflow_task():
    """The decorated object is a Celery task with the workflow base class."""
    assert isinstance(a, Task)
    assert isinstance(a, WorkflowTask)
    assert isinstance(c, WorkflowTask)
    assert not isinstance(plain, WorkflowTask)
    assert a.name == f"{MODULE}.a"
    assert (a.workflow_id, a.task_record_id, a.params) == (None, None, None)


def test_registered_on_a_fresh_app(celery_app):
    """Tasks are registered on new apps under their stable names."""
    for name in (f"{MODULE}.a", f"{MODULE}.c", f"{MODULE}.bound", "custom.name"):
        assert name in celery_app.tasks
        assert isinstance(celery_app.tasks[name], WorkflowTask)
    assert WorkflowTask.name is None
    assert not any(type(t) is WorkflowTask for t in celery_app.tasks.values())


def test_options_are_kept(celery_app):
    """Celery task options given to the decorator are kept."""
    task = celery_app.tasks[f"{MODULE}.bound"]
    assert task.max_retries == 3
    assert task.autoretry_for == (IOError,)
    assert named.name == "custom.name"
    assert named.queue == "video"


def test_bound_task_gets_self(celery_app):
    """A bound task receives the task object as ``self``."""
    task = celery_app.tasks[f"{MODULE}.bound"]
    this, value = task.apply(args=(5,)).get()
    assert this is task
    assert value == 5
    assert celery_app.tasks[f"{MODULE}.a"].apply(args=(7,)).get() == 7


def test_custom_base(celery_app):
    """A subclass of WorkflowTask may be given as base."""
    assert isinstance(custom, CustomTask)
    assert celery_app.tasks[f"{MODULE}.custom"].custom is True


def test_base_must_subclass_workflow_task():
    """Any other base is refused."""
    with pytest.raises(TypeError, match="subclass of .*WorkflowTask"):
        workflow_task(base=Task)
    with pytest.raises(TypeError, match="subclass of .*WorkflowTask"):
        workflow_task(base="tasks:Base")

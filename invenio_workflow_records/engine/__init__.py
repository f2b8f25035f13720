# SPDX-License-Identifier: MIT
"""Execution of workflow plans on Celery."""

from . import signals  # noqa: F401 (connects the task_failure handler)
from .base import WorkflowTask
from .decorators import workflow_task

__all__ = ("WorkflowTask", "workflow_task")

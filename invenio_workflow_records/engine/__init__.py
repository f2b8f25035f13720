# SPDX-License-Identifier: MIT
"""Execution of workflow plans on Celery."""

from .base import WorkflowTask
from .decorators import workflow_task

__all__ = ("WorkflowTask", "workflow_task")

# SPDX-License-Identifier: MIT
"""Services of workflows and tasks."""

from .permissions import WorkflowPermissionPolicy
from .tasks.config import TasksServiceConfig
from .tasks.service import TasksService
from .workflows.config import WorkflowsServiceConfig
from .workflows.service import WorkflowsService

__all__ = (
    "TasksService",
    "TasksServiceConfig",
    "WorkflowPermissionPolicy",
    "WorkflowsService",
    "WorkflowsServiceConfig",
)

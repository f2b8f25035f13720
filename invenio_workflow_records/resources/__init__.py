# SPDX-License-Identifier: MIT
"""REST resources of workflows and tasks."""

from .tasks.config import TasksResourceConfig
from .tasks.resource import TasksResource
from .workflows.config import WorkflowsResourceConfig
from .workflows.resource import WorkflowsResource

__all__ = (
    "TasksResource",
    "TasksResourceConfig",
    "WorkflowsResource",
    "WorkflowsResourceConfig",
)

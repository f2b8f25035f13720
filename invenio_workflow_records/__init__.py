# SPDX-License-Identifier: MIT
"""Server-side workflows of Celery tasks as durable, searchable Invenio records."""

from .definitions import Workflow
from .engine import workflow_task
from .ext import InvenioWorkflowRecords

__version__ = "0.1.0"

__all__ = ("__version__", "InvenioWorkflowRecords", "Workflow", "workflow_task")

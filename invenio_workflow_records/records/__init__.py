# SPDX-License-Identifier: MIT
"""Workflow and task records."""

from .api import TaskRecord, WorkflowRecord

__all__ = ("TaskRecord", "WorkflowRecord")

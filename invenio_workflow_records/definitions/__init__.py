# SPDX-License-Identifier: MIT
"""Workflow definitions: the registry, the Workflow base class, plans."""

from .errors import (
    DefinitionError,
    DefinitionImportError,
    InvalidDefinitionError,
    InvalidParamsError,
    UnknownWorkflowError,
)
from .plan import PlanNode, compile_plan
from .registry import DefinitionRegistry, WorkflowDefinition
from .workflow import Workflow

__all__ = (
    "DefinitionError",
    "DefinitionImportError",
    "DefinitionRegistry",
    "InvalidDefinitionError",
    "InvalidParamsError",
    "PlanNode",
    "UnknownWorkflowError",
    "Workflow",
    "WorkflowDefinition",
    "compile_plan",
)

# SPDX-License-Identifier: MIT
"""Workflow definitions that the fault tests run while they inject faults.

Every task takes the workflow params ``log`` (the execution log) and
``seconds`` (how long it sleeps) unless its signature sets them; see
:mod:`tests.mock_module.fault_tasks`.
"""

from celery import chain

from .fault_tasks import fragile_step, step

QUICK = {"seconds": 0.1, "first_attempt_seconds": 0.1}
"""Signature kwargs of a quick step: the params' durations do not reach it."""

steps = chain(step.si(0), step.s(), step.s(), step.s(), step.s())
"""Five steps of ``seconds`` each; the result is 5."""

slow_then_quick = chain(step.si(0), step.s(**QUICK), step.s(**QUICK))
"""A step of ``seconds`` (``first_attempt_seconds`` on its first attempt), two quick ones."""

fragile_then_quick = chain(fragile_step.si(0), step.s(**QUICK))
"""A step that is not tried again when its worker is lost, then a quick one."""

undecodable = chain(step.si(0, **QUICK).set(serializer="pickle"), step.s(**QUICK))
"""A first step sent with a serializer the worker does not accept."""

FAULT_DEFINITIONS = {
    "fault-undecodable": {
        "workflow_definition": "tests.mock_module.fault_definitions:undecodable",
    },
    "fault-steps": {
        "workflow_definition": "tests.mock_module.fault_definitions:steps",
    },
    "fault-slow-then-quick": {
        "workflow_definition": "tests.mock_module.fault_definitions:slow_then_quick",
    },
    "fault-fragile-then-quick": {
        "workflow_definition": (
            "tests.mock_module.fault_definitions:fragile_then_quick"
        ),
    },
}
"""The ``WORKFLOWS_DEFINITIONS`` entries of the fault tests."""

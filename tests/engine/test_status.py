# SPDX-License-Identifier: MIT
"""Workflow status derivation, every case."""

import itertools

import pytest

from invenio_workflow_records.engine.status import (
    TASK_STATUSES,
    derive_status,
    task_counts,
)

STATUSES = TASK_STATUSES


def expected(statuses):
    """The rule of docs/design.md section 3, written independently of the engine."""
    if any(s in ("pending", "queued", "running", "retrying") for s in statuses):
        return "running"
    if all(s == "succeeded" for s in statuses):
        return "succeeded"
    if "failed" in statuses:
        return "failed"
    return "stopped"


@pytest.mark.parametrize("size", [1, 2, 3])
def test_every_combination_of_task_statuses(size):
    for statuses in itertools.product(STATUSES, repeat=size):
        assert derive_status(statuses, started=True) == expected(statuses), statuses


def test_never_started_is_created():
    assert derive_status(["pending", "pending"], started=False) == "created"


def test_examples():
    assert derive_status(["succeeded", "failed", "skipped"], True) == "failed"
    assert derive_status(["succeeded", "failed", "running"], True) == "running"
    assert derive_status(["succeeded", "stopped", "skipped"], True) == "stopped"
    assert derive_status(["succeeded", "succeeded"], True) == "succeeded"


def test_task_counts():
    counts = task_counts(["pending", "running", "pending"])
    assert counts == {"pending": 2, "running": 1}

# SPDX-License-Identifier: MIT
"""Workflow status, derived from the statuses of its tasks."""

from collections import Counter

TASK_STATUSES = (
    "pending",
    "queued",
    "running",
    "retrying",
    "succeeded",
    "failed",
    "stopped",
    "skipped",
)
"""Every status a task can have, in lifecycle order."""

WORKFLOW_STATUSES = ("created", "running", "succeeded", "failed", "stopped")
"""Every status a workflow can have."""

ACTIVE = frozenset({"queued", "running", "retrying"})
"""Task statuses of work in flight."""

RUNNING = frozenset({"running", "retrying"})
"""Task statuses of an attempt a worker holds (revoked with terminate on stop)."""

FINISHED = frozenset({"succeeded", "failed", "stopped", "skipped"})
"""Task statuses that change only through a user action."""

RERUNNABLE = frozenset({"failed", "stopped", "skipped"})
"""Task statuses that a resume runs again."""


def task_counts(statuses):
    """Number of tasks in each status, e.g. ``{"succeeded": 2, "running": 1}``."""
    return dict(sorted(Counter(statuses).items()))


def derive_status(statuses, started):
    """The workflow status for these task statuses.

    ``created`` until the first start; ``running`` while something is in
    flight or pending (the engine skips what can no longer run, so a pending
    task can still make progress); then ``succeeded`` if every task did,
    ``failed`` if one failed, else ``stopped``.
    """
    statuses = list(statuses)
    if not started:
        return "created"
    present = set(statuses)
    if present & ACTIVE or "pending" in present:
        return "running"
    if present <= {"succeeded"}:
        return "succeeded"
    if "failed" in present:
        return "failed"
    return "stopped"

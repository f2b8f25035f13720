# SPDX-License-Identifier: MIT
"""Scheduling the index drain after a commit.

The engine never talks to the search cluster between a task's end and its
children's dispatch: every write flags its rows ``index_dirty`` (the durable
index queue) and, after the commit, asks for a drain. In a worker or a web
process the drain is a Celery task sent with a short countdown; a process
sends at most one per ``WORKFLOWS_INDEX_DELAY`` window, so a burst of events
becomes one bulk request. In eager mode (tests) the drain runs inline.
"""

import time

from celery import current_app as current_celery
from flask import current_app
from invenio_records_resources.services.uow import Operation

_next_drain = 0.0
"""When the drain this process last asked for will run (monotonic clock)."""


def request_drain():
    """Ask for a drain soon, unless one already scheduled runs after now."""
    global _next_drain
    from .tasks import drain_index

    delay = current_app.config["WORKFLOWS_INDEX_DELAY"]
    moment = time.monotonic()
    # The margin covers the clock differences between this process and the
    # worker that runs the drain at its ETA.
    if moment < _next_drain - 0.05:
        return
    drain_index.apply_async(countdown=delay)
    _next_drain = moment + delay


class IndexDrainOp(Operation):
    """Drain the index queue after the commit (never fails the commit)."""

    def on_post_commit(self, uow):
        """Drain inline in eager mode, else schedule the drain task."""
        try:
            if current_celery.conf.task_always_eager:
                from ..indexing import drain

                drain()
            else:
                request_drain()
        except Exception:
            # The rows stay flagged: the recovery pass drains them later.
            current_app.logger.exception("Could not drain the workflows index queue")


def schedule_index_drain(uow):
    """Register one :class:`IndexDrainOp` on ``uow`` (once per unit of work)."""
    if not any(isinstance(op, IndexDrainOp) for op in uow._operations):
        uow.register(IndexDrainOp())

# SPDX-License-Identifier: MIT
"""Workflow tasks of the fault tests (run by a real worker that the tests kill).

Every execution leaves its trace in the execution log whose path is the
workflow param ``log`` (see :mod:`tests.faults.executions`): a ``start``
line, a ``tick`` line every 0.2 s while it sleeps, an ``end`` line. The
tests count executions with it and check that two executions of one task
never overlapped.
"""

import time

from invenio_workflow_records import workflow_task
from tests.faults.executions import TICK_SECONDS, new_token, write_line


def _attempt(request_id):
    """The attempt number in a fenced Celery id (``<task id>:<attempt>``)."""
    _, _, attempt = (request_id or "").rpartition(":")
    return int(attempt) if attempt.isdigit() else 0


def _traced_sleep(task, x, log, seconds, first_attempt_seconds):
    attempt = _attempt(task.request.id)
    if attempt == 1 and first_attempt_seconds is not None:
        seconds = first_attempt_seconds
    token = new_token()
    task_id = task.task_record_id or task.request.id

    def trace(event):
        if log:
            write_line(log, token, task_id, attempt, event)

    trace("start")
    deadline = time.monotonic() + float(seconds or 0)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(TICK_SECONDS, left))
        trace("tick")
    trace("end")
    return (x or 0) + 1


@workflow_task(bind=True)
def step(self, x=0, log=None, seconds=0.0, first_attempt_seconds=None):
    """Sleep ``seconds`` (``first_attempt_seconds`` on attempt 1), return ``x + 1``.

    The execution is traced in the execution log ``log``.
    """
    return _traced_sleep(self, x, log, seconds, first_attempt_seconds)


@workflow_task(bind=True, worker_lost_retries=0)
def fragile_step(self, x=0, log=None, seconds=0.0, first_attempt_seconds=None):
    """Like :func:`step`, but fails at once (``WorkerLost``) when its worker is lost.

    The Celery task option ``worker_lost_retries=0``: the recovery pass
    makes no new attempt of it.
    """
    return _traced_sleep(self, x, log, seconds, first_attempt_seconds)

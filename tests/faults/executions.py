# SPDX-License-Identifier: MIT
"""The execution log that the fault tasks write, and what it proves.

Every execution of a task of :mod:`tests.mock_module.fault_tasks` appends
lines to the log file given in the workflow's params (``O_APPEND`` writes of
one short line each: lines of concurrent writers never mix)::

    <execution token> <task record id> <attempt> <pid> start <unix time>
    <execution token> <task record id> <attempt> <pid> tick <unix time>
    <execution token> <task record id> <attempt> <pid> end <unix time>

``tick`` lines come every :data:`TICK_SECONDS` while the task sleeps, so
that the interval of an execution killed with its worker (no ``end``) is
known to within a tick. Two executions of one task overlap when their
intervals ``[start, last line]`` intersect.
"""

import os
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

TICK_SECONDS = 0.2
"""Seconds between two ``tick`` lines of a sleeping task."""


def write_line(path, token, task_id, attempt, event, moment=None):
    """Append one line to the execution log at ``path`` (one atomic write)."""
    moment = time.time() if moment is None else moment
    line = f"{token} {task_id} {attempt} {os.getpid()} {event} {moment:.6f}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def new_token():
    """A unique token for one execution."""
    return uuid.uuid4().hex[:12]


@dataclass
class Execution:
    """One execution of a task, as the log tells it."""

    token: str
    task_id: str
    attempt: int
    pid: int
    start: float
    last: float
    ended: bool = False
    events: list = field(default_factory=list)

    def overlaps(self, other):
        """Whether this execution and ``other`` ran at the same time."""
        return self.start <= other.last and other.start <= self.last


def read_executions(path):
    """The executions in the log at ``path``, in the order they started."""
    executions = {}
    try:
        with open(path) as fp:
            lines = fp.read().splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        if not line.strip():
            continue
        token, task_id, attempt, pid, event, moment = line.split()
        moment = float(moment)
        execution = executions.get(token)
        if execution is None:
            execution = executions[token] = Execution(
                token, task_id, int(attempt), int(pid), moment, moment
            )
        execution.last = max(execution.last, moment)
        execution.start = min(execution.start, moment)
        execution.events.append(event)
        if event == "end":
            execution.ended = True
    return sorted(executions.values(), key=lambda e: e.start)


def by_task(executions):
    """``{task record id: [executions]}``."""
    grouped = defaultdict(list)
    for execution in executions:
        grouped[execution.task_id].append(execution)
    return dict(grouped)


def concurrent_executions(executions):
    """Pairs of executions of the same task that overlap in time."""
    pairs = []
    for runs in by_task(executions).values():
        for index, first in enumerate(runs):
            for second in runs[index + 1 :]:
                if first.overlaps(second):
                    pairs.append((first, second))
    return pairs

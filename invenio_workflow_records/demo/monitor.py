# SPDX-License-Identifier: MIT
"""Live view of the transitions of workflows and their tasks.

The worker records every task transition as a new revision of the task
record. :class:`TransitionMonitor` polls the database (the records and their
revisions) and prints, for each change, the statuses a task went through
since the last poll, e.g.::

      1.4s  pdf-plots     extract_text      queued -> running -> succeeded (0.61s)
"""

import sys
import time
import uuid
from datetime import datetime

from invenio_db import db
from sqlalchemy_continuum import version_class

from ..records.models import WorkflowMetadata, WorkflowTaskMetadata

FINISHED = frozenset({"succeeded", "failed", "stopped", "skipped"})
"""Task statuses after which a duration is printed."""

WORKFLOW_FINISHED = frozenset({"succeeded", "failed", "stopped"})
"""Workflow statuses in which nothing runs."""


def _seconds(start, end):
    """Seconds between two ISO 8601 timestamps, or ``None``."""
    try:
        delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    except (TypeError, ValueError):
        return None
    return delta.total_seconds()


def short_task_name(name):
    """``extract_text`` for ``invenio_workflow_records.demo.workflows.extract_text``."""
    return (name or "?").rsplit(".", 1)[-1]


class TransitionMonitor:
    """Prints the transitions of the tracked workflows as they happen."""

    def __init__(self, out=None, started=None):
        """Print to ``out`` (stdout), times relative to ``started`` (now)."""
        self.out = out or sys.stdout
        self.started = time.monotonic() if started is None else started
        self.names = {}
        self.workflow_status = {}
        self.task_versions = {}
        self.task_status = {}
        self.lines = []

    def track(self, workflow_id, name):
        """Follow the workflow ``workflow_id`` (shown as ``name``)."""
        self.names[str(workflow_id)] = name

    def status(self, workflow_id):
        """The last seen status of a tracked workflow."""
        return self.workflow_status.get(str(workflow_id))

    def finished(self, workflow_id):
        """Whether a tracked workflow was last seen in a final status."""
        return self.status(workflow_id) in WORKFLOW_FINISHED

    def emit(self, workflow_id, label, text):
        """Print one line of the live view."""
        elapsed = time.monotonic() - self.started
        line = f"{elapsed:6.1f}s  {self.names[workflow_id]:<13} {label:<16} {text}"
        self.lines.append(line)
        print(line, file=self.out, flush=True)

    def poll(self):
        """Read what changed since the last poll and print it.

        Ends the session's transaction before and after, so that each poll
        sees what the worker committed and holds no lock in between.
        """
        if not self.names:
            return
        db.session.rollback()
        try:
            self._poll_tasks()
            self._poll_workflows()
        finally:
            db.session.rollback()
            db.session.remove()

    def _poll_workflows(self):
        ids = [uuid.UUID(i) for i in self.names]
        rows = (
            db.session.query(WorkflowMetadata.id, WorkflowMetadata.json)
            .filter(WorkflowMetadata.id.in_(ids))
            .all()
        )
        statuses = {str(row_id): (data or {}).get("status") for row_id, data in rows}
        for key in self.names:
            if key not in statuses:
                continue
            status = statuses[key]
            previous = self.workflow_status.get(key)
            if status != previous:
                self.workflow_status[key] = status
                arrow = f"{previous} -> {status}" if previous else status
                self.emit(key, "(workflow)", arrow)

    def _poll_tasks(self):
        ids = [uuid.UUID(i) for i in self.names]
        live = (
            db.session.query(
                WorkflowTaskMetadata.id,
                WorkflowTaskMetadata.version_id,
                WorkflowTaskMetadata.workflow_id,
                WorkflowTaskMetadata.position,
            )
            .filter(WorkflowTaskMetadata.workflow_id.in_(ids))
            .all()
        )
        order = {workflow_id: index for index, workflow_id in enumerate(self.names)}
        live.sort(key=lambda row: (order[str(row[2])], row[3]))
        changed = [
            (task_id, workflow_id)
            for task_id, version, workflow_id, _ in live
            if self.task_versions.get(str(task_id)) != version
        ]
        if not changed:
            return
        version_cls = version_class(WorkflowTaskMetadata)
        rows = (
            db.session.query(version_cls.id, version_cls.version_id, version_cls.json)
            .filter(version_cls.id.in_([task_id for task_id, _ in changed]))
            .order_by(version_cls.transaction_id)
            .all()
        )
        revisions = {}
        for task_id, version, data in rows:
            if version > self.task_versions.get(str(task_id), 0):
                revisions.setdefault(str(task_id), []).append((version, data or {}))
        for task_id, workflow_id in changed:
            self._report(str(task_id), str(workflow_id), revisions.get(str(task_id)))

    def _report(self, task_id, workflow_id, revisions):
        if not revisions:
            return
        self.task_versions[task_id] = revisions[-1][0]
        previous = self.task_status.get(task_id)
        chain = [previous] if previous else []
        for _, data in revisions:
            if not chain or chain[-1] != data.get("status"):
                chain.append(data.get("status"))
        last = revisions[-1][1]
        self.task_status[task_id] = last.get("status")
        if previous and len(chain) < 2:
            return  # a revision without a status change (e.g. progress)
        text = " -> ".join(chain)
        status = last.get("status")
        if status in FINISHED:
            seconds = _seconds(last.get("started_at"), last.get("finished_at"))
            if seconds is not None and status != "skipped":
                text += f" ({seconds:.2f}s)"
            error = last.get("error") or {}
            if status == "failed" and error:
                text += f": {error.get('type')}: {error.get('message')}"
            elif status == "skipped" and last.get("message"):
                text += f": {last['message']}"
        self.emit(workflow_id, short_task_name(last.get("name")), text)

    def wait(self, predicate, deadline, interval=0.2):
        """Poll every ``interval`` s until ``predicate()``; TimeoutError at ``deadline``."""
        while True:
            self.poll()
            if predicate():
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the example workflows did not finish in time")
            time.sleep(interval)

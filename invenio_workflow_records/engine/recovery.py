# SPDX-License-Identifier: MIT
"""The recovery pass: nothing in flight stays without an owner past its deadline.

The database is the only source of truth. One pass:

* resends the messages of queued (or retrying) attempts that were never sent
  (the broker refused them: ``sent_at`` is NULL) or that no worker started
  within ``WORKFLOWS_DISPATCH_TIMEOUT`` (lost by the broker, or a crash
  between the commit and the send) — the same attempt, so the fence lets
  only one copy run;
* takes over running attempts whose lease expired (their worker stopped
  renewing it: killed, or lost with its machine): a new attempt, up to
  ``WORKFLOWS_WORKER_LOST_RETRIES`` times, then ``failed`` with
  ``WorkerLost``;
* drains the index queue, so the index catches up after a search outage.

Workers run a pass every ``WORKFLOWS_RECOVERY_INTERVAL`` seconds from a
thread of their main process; ``invenio workflows recover`` runs one on
demand. On PostgreSQL one pass runs at a time across all processes (an
advisory lock); each repair re-checks its task under the workflow's lock, so
concurrent passes elsewhere cannot repair one thing twice.
"""

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from celery import current_app as current_celery
from flask import current_app
from invenio_db import db

from . import runner, store
from .transactions import is_retryable, run_in_transaction

ADVISORY_LOCK_KEY = 0x77666C6F77  # "wflow"
"""PostgreSQL advisory lock held while a pass runs."""

_local_lock = threading.Lock()


@dataclass
class Finding:
    """One stranded thing the pass found, and what it did (or would do)."""

    kind: str
    task_id: str
    workflow_id: str
    task_name: str
    detail: str
    action: str
    outcome: str = ""


@dataclass
class RecoveryReport:
    """What one recovery pass found and did."""

    dry_run: bool
    ran: bool = True
    findings: list = field(default_factory=list)
    indexed: int = 0

    @property
    def repaired(self):
        """Findings that the pass repaired."""
        return [f for f in self.findings if f.outcome in ("sent", "retried", "failed")]


def _stranded_queued(moment, dispatch_timeout):
    """Queued or retrying tasks whose message was not sent, or is overdue."""
    tasks = store.TASKS
    overdue = moment - timedelta(seconds=dispatch_timeout)
    statement = sa.select(
        tasks.c.id, tasks.c.workflow_id, tasks.c.json, tasks.c.sent_at
    ).where(
        tasks.c.status.in_(("queued", "retrying")),
        sa.or_(tasks.c.sent_at.is_(None), tasks.c.sent_at < overdue),
    )
    return db.session.execute(statement).all()


def _lost_running(moment):
    """Running tasks whose lease expired."""
    tasks = store.TASKS
    statement = sa.select(
        tasks.c.id, tasks.c.workflow_id, tasks.c.json, tasks.c.lease_expires_at
    ).where(tasks.c.status == "running", tasks.c.lease_expires_at < moment)
    return db.session.execute(statement).all()


def lost_retries(task_name):
    """How many new attempts a task gets when its worker is lost."""
    task = current_celery.tasks.get(task_name)
    own = getattr(task, "worker_lost_retries", None)
    if own is not None:
        return own
    return current_app.config["WORKFLOWS_WORKER_LOST_RETRIES"]


def find(moment=None):
    """The stranded tasks, as findings (nothing changed)."""
    moment = moment or store.utcnow()
    config = current_app.config
    findings = []
    for row in _stranded_queued(moment, config["WORKFLOWS_DISPATCH_TIMEOUT"]):
        detail = (
            "message never sent"
            if row.sent_at is None
            else f"sent {(moment - row.sent_at).total_seconds():.0f} s ago, not started"
        )
        findings.append(
            Finding(
                "undelivered",
                str(row.id),
                str(row.workflow_id),
                row.json.get("name", ""),
                f"{row.json['status']}, attempt {row.json.get('attempt')}: {detail}",
                "resend the same attempt",
            )
        )
    for row in _lost_running(moment):
        retries = lost_retries(row.json.get("name"))
        lost = row.json.get("lost", 0)
        expired = (moment - row.lease_expires_at).total_seconds()
        findings.append(
            Finding(
                "worker-lost",
                str(row.id),
                str(row.workflow_id),
                row.json.get("name", ""),
                f"running on {row.json.get('worker', '?')}, lease expired "
                f"{expired:.0f} s ago",
                "new attempt" if lost < retries else "fail with WorkerLost",
            )
        )
    return findings


@contextmanager
def pass_lock():
    """Hold the lock of the recovery pass; yields False if another pass holds it."""
    if not _local_lock.acquire(blocking=False):
        yield False
        return
    try:
        if db.engine.dialect.name != "postgresql":
            yield True
            return
        with db.engine.connect() as connection:
            held = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"),
                {"key": ADVISORY_LOCK_KEY},
            ).scalar()
            try:
                yield bool(held)
            finally:
                if held:
                    connection.execute(
                        sa.text("SELECT pg_advisory_unlock(:key)"),
                        {"key": ADVISORY_LOCK_KEY},
                    )
                connection.commit()
    finally:
        _local_lock.release()


def recover(dry_run=False, take_over_leases=True):
    """Run one recovery pass; return its :class:`RecoveryReport`.

    ``take_over_leases`` False leaves expired leases alone (right after a
    database outage, when live workers could not renew them).
    """
    report = RecoveryReport(dry_run=dry_run)
    with pass_lock() as held:
        if not held:
            report.ran = False
            return report
        report.findings = find()
        if not take_over_leases:
            report.findings = [f for f in report.findings if f.kind != "worker-lost"]
        if dry_run:
            return report
        config = current_app.config
        for finding in report.findings:
            try:
                finding.outcome = _repair(finding, config)
            except Exception as error:
                if not is_retryable(error):
                    current_app.logger.exception(
                        "Recovery of %s failed", finding.task_id
                    )
                finding.outcome = f"error: {str(error).splitlines()[0]}"
                db.session.rollback()
        report.indexed = _drain_index()
    return report


def _repair(finding, config):
    """Repair one finding in a transaction of its own; the outcome."""
    if finding.kind == "undelivered":
        outcome = run_in_transaction(
            runner.resend_task,
            (
                finding.task_id,
                config["WORKFLOWS_DISPATCH_TIMEOUT"],
                config["WORKFLOWS_MAX_RESENDS"],
            ),
            retry_for=0,
        )
        return outcome or "already moved on"
    outcome = run_in_transaction(
        runner.worker_lost,
        (finding.task_id, lost_retries(finding.task_name)),
        retry_for=0,
    )
    return outcome or "already moved on"


def _drain_index():
    """Drain the index queue; the number of documents indexed."""
    from ..indexing import drain

    try:
        result = drain()
    except Exception:
        current_app.logger.exception("Recovery: could not drain the index queue")
        return 0
    return getattr(result, "indexed", 0)


class RecoveryTimer:
    """Run a recovery pass every ``interval`` seconds in a daemon thread."""

    def __init__(self, flask_app, interval):
        """Passes in ``flask_app``'s context, every ``interval`` seconds."""
        self.flask_app = flask_app
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._loop, name="workflows-recovery", daemon=True
        )

    def start(self):
        """Start the timer."""
        self.thread.start()
        return self

    def _loop(self):
        # After a pass fails because the database was unreachable, live
        # workers could not renew their leases either: wait one more lease
        # before taking any over, so that they can renew them and record
        # the results they held through the outage.
        quiet_until = 0.0
        while not self.stopped.wait(self.interval):
            with self.flask_app.app_context():
                try:
                    report = recover(take_over_leases=time.monotonic() >= quiet_until)
                    for finding in report.repaired:
                        self.flask_app.logger.warning(
                            "Recovery: %s task %s (%s): %s -> %s",
                            finding.kind,
                            finding.task_id,
                            finding.task_name,
                            finding.detail,
                            finding.outcome,
                        )
                except Exception as error:
                    if not is_retryable(error):
                        self.flask_app.logger.exception("Recovery pass failed")
                        continue
                    lease = self.flask_app.config["WORKFLOWS_LEASE_SECONDS"]
                    quiet_until = time.monotonic() + lease
                    self.flask_app.logger.warning(
                        "Recovery pass: database unreachable (%s)",
                        str(error).splitlines()[0],
                    )
                finally:
                    db.session.remove()

    def stop(self):
        """Stop after the current pass."""
        self.stopped.set()

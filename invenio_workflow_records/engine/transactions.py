# SPDX-License-Identifier: MIT
"""Transactions of the engine in a worker: retried on outages, and leases.

A worker records each transition in a transaction of its own. When the
database is unreachable for a moment, the transaction is retried with
backoff so that a task's result is not lost; while a task runs, a heartbeat
renews the lease of its attempt so that the recovery pass can tell a live
worker from a lost one.
"""

import threading
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from invenio_db import db
from invenio_db.uow import UnitOfWork
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from . import store

RETRYABLE = (OperationalError, DisconnectionError)
"""Errors of a database that is (momentarily) unreachable."""


def ping_idle_connections(engine, idle_seconds):
    """Ping a pooled connection at checkout when it was idle for ``idle_seconds``.

    A dead connection is replaced (the pool retries the checkout with a new
    one); a connection used a moment ago is trusted, as a failure then is
    handled by the retry of :func:`run_in_transaction` or answered 503.
    """
    if getattr(engine, "_workflows_idle_ping", False):
        return
    engine._workflows_idle_ping = True

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        now = time.monotonic()
        last = record.info.get("workflows_last_checkin")
        if last is not None and now - last < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as error:
            raise DisconnectionError(f"Stale pooled connection: {error}") from error

    @sa.event.listens_for(engine, "checkin")
    def _remember_use(dbapi_connection, record):
        record.info["workflows_last_checkin"] = time.monotonic()


class EngineUnitOfWork(UnitOfWork):
    """A unit of work that opens a savepoint only inside an open transaction.

    A worker's event is the whole transaction: a savepoint would only add
    round trips. Inside a caller's transaction (eager mode) it nests as usual.
    """

    def __enter__(self):
        """Begin a savepoint only when a transaction is already open."""
        if self.session().in_transaction():
            self.session.begin_nested()
        return self


def is_retryable(error):
    """Whether ``error`` means the database could not be reached."""
    if isinstance(error, RETRYABLE):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def run_in_transaction(event, args, retry_for, after=None):
    """Run ``event(*args, uow=uow)`` and commit; retry outages for ``retry_for`` s.

    ``after`` is called after each attempt, successful or not (to close the
    session). Returns what the event returned.
    """
    deadline = time.monotonic() + retry_for
    delay = 0.2
    while True:
        try:
            with EngineUnitOfWork() as uow:
                result = event(*args, uow=uow)
                uow.commit()
            return result
        except Exception as error:
            if not is_retryable(error) or time.monotonic() + delay > deadline:
                raise
            current_app.logger.warning(
                "Database unreachable (%s); retrying in %.1f s", error, delay
            )
            _discard_session()
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        finally:
            if after is not None:
                after()


def _discard_session():
    """Drop the session and its (possibly dead) connection."""
    try:
        db.session.rollback()
    except Exception:
        pass
    db.session.remove()


class LeaseHeartbeat:
    """Renew the lease of a running attempt until stopped.

    One UPDATE of ``lease_expires_at`` every third of the lease, from a
    thread with its own connection; no revision. A task that ends within a
    third of the lease never renews.
    """

    def __init__(self, task_id, celery_id):
        """Start renewing the lease of attempt ``celery_id`` of ``task_id``."""
        self.app = current_app._get_current_object()
        self.seconds = self.app.config["WORKFLOWS_LEASE_SECONDS"]
        self.task_id = task_id
        self.celery_id = celery_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._beat, name=f"lease-{celery_id}", daemon=True
        )
        self.thread.start()

    def _beat(self):
        with self.app.app_context():
            while not self.stopped.wait(self.seconds / 3):
                try:
                    until = store.utcnow() + timedelta(seconds=self.seconds)
                    with db.engine.begin() as connection:
                        held = store.renew_lease(
                            connection, self.task_id, self.celery_id, until
                        )
                    if not held:
                        return
                except Exception:
                    # Unreachable database: try again at the next beat.
                    self.app.logger.warning(
                        "Could not renew the lease of %s", self.celery_id
                    )

    def stop(self):
        """Stop renewing (the task ended)."""
        self.stopped.set()

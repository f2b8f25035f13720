# SPDX-License-Identifier: MIT
"""SQLite made safe for several processes (the embedded and test setups).

Workers and the web process write the same workflow rows. pysqlite opens
transactions lazily with a deferred ``BEGIN``: two processes that both read
and then write deadlock, and SQLite answers "database is locked" at once,
without waiting. With these hooks every transaction starts with ``BEGIN
IMMEDIATE`` (writers queue up, waiting up to ``busy_timeout``), and
SQLAlchemy, not pysqlite, controls transactions, so SAVEPOINTs work.

PostgreSQL is untouched: it needs none of this.
"""

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 30000
"""How long a transaction waits for another process's write lock."""

_state = {"enabled": False}


def enable():
    """Install the hooks (once per process) for every SQLite engine."""
    if _state["enabled"]:
        return
    event.listen(Engine, "connect", _on_connect)
    event.listen(Engine, "begin", _on_begin)
    _state["enabled"] = True


def _on_connect(dbapi_connection, connection_record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _on_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")

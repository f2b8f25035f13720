# SPDX-License-Identifier: MIT
"""Pooled connections that died are replaced before use."""

import pytest
import sqlalchemy as sa

from invenio_workflow_records.engine.transactions import ping_idle_connections


def test_a_dead_idle_connection_is_replaced(database):
    """A backend killed while its connection sat in the pool is not used."""
    if database.engine.name != "postgresql":
        pytest.skip("Killing a backend needs PostgreSQL.")
    engine = sa.create_engine(database.engine.url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, idle_seconds=0)
    try:
        with engine.connect() as connection:
            pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with database.engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        with engine.connect() as connection:
            new_pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        assert new_pid != pid
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_trusted(database):
    """Within the idle time no ping is made: a dead backend shows on first use."""
    if database.engine.name != "postgresql":
        pytest.skip("Killing a backend needs PostgreSQL.")
    engine = sa.create_engine(database.engine.url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, idle_seconds=60)
    try:
        with engine.connect() as connection:
            pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with database.engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        with pytest.raises(sa.exc.OperationalError):
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()

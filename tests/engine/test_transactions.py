# SPDX-License-Identifier: MIT
"""Pooled connections that died are replaced before use."""

import pytest
import sqlalchemy as sa

from invenio_workflow_records.engine.transactions import ping_idle_connections


@pytest.fixture()
def pool_with_killed_backend(database):
    """An engine of one pooled connection whose server backend was killed.

    Yields a function taking the idle time after which the pool pings.
    """
    if database.engine.name != "postgresql":
        pytest.skip("Killing a backend needs PostgreSQL.")
    engines = []

    def make(idle_seconds):
        engine = sa.create_engine(database.engine.url, pool_size=1, max_overflow=0)
        engines.append(engine)
        ping_idle_connections(engine, idle_seconds=idle_seconds)
        with engine.connect() as connection:
            pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with database.engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        return engine, pid

    yield make
    for engine in engines:
        engine.dispose()


def test_a_dead_idle_connection_is_replaced(pool_with_killed_backend):
    """A backend killed while its connection sat in the pool is not used."""
    engine, pid = pool_with_killed_backend(idle_seconds=0)
    with engine.connect() as connection:
        new_pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    assert new_pid != pid


def test_a_connection_used_a_moment_ago_is_trusted(pool_with_killed_backend):
    """Within the idle time no ping is made: a dead backend shows on first use."""
    engine, _ = pool_with_killed_backend(idle_seconds=60)
    with pytest.raises(sa.exc.OperationalError):
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

# SPDX-License-Identifier: MIT
"""The alembic recipe creates exactly the tables of the models."""

import pytest
from invenio_db.utils import drop_alembic_version_table

TABLES = {
    "workflows_workflow",
    "workflows_workflow_version",
    "workflows_task",
    "workflows_task_version",
}


def _our_differences(alembic):
    """Differences between the models and the database, for our tables only."""

    def touches_ours(diff):
        items = diff if isinstance(diff, list) else [diff]
        return any(TABLES & {str(part) for item in items for part in _names(item)})

    return [d for d in alembic.compare_metadata() if touches_ours(d)]


def _names(item):
    """Table names mentioned by one alembic diff tuple."""
    for part in item:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if name:
            yield name
        if table is not None and getattr(table, "name", None):
            yield table.name
        if isinstance(part, str):
            yield part


def test_alembic_recipe_matches_the_models(base_app, database):
    """Upgrade from an empty database gives the models' tables, downgrade drops them."""
    if database.engine.name == "sqlite":
        pytest.skip("Alembic upgrades of all Invenio modules need PostgreSQL.")
    alembic = base_app.extensions["invenio-db"].alembic

    database.drop_all()
    drop_alembic_version_table()
    alembic.upgrade()
    assert _our_differences(alembic) == []
    inspector = database.inspect(database.engine)
    assert TABLES <= set(inspector.get_table_names())

    alembic.downgrade(target="6a1c0e2f9b10")
    inspector = database.inspect(database.engine)
    assert not TABLES & set(inspector.get_table_names())

    alembic.upgrade()
    assert _our_differences(alembic) == []
    drop_alembic_version_table()
    database.drop_all()
    database.create_all()

# SPDX-License-Identifier: MIT
"""Engine-owned columns: counters, reverse edges, outbox, leases, index queue."""

import sqlalchemy as sa
import sqlalchemy_utils
from alembic import op

# revision identifiers, used by Alembic.
revision = "9c4e1f7a2b35"
down_revision = "7d2b4c1e8a21"
branch_labels = ()
depends_on = None


def _json_type():
    return (
        sa.JSON()
        .with_variant(sa.dialects.postgresql.JSONB(none_as_null=True), "postgresql")
        .with_variant(sqlalchemy_utils.JSONType(), "sqlite")
    )


def upgrade():
    """Add the columns, then fill them from the existing documents."""
    op.add_column("workflows_workflow", sa.Column("task_counts", _json_type()))
    op.add_column(
        "workflows_workflow",
        sa.Column("index_seq", sa.Integer(), nullable=False, server_default="1"),
    )
    op.add_column(
        "workflows_workflow",
        sa.Column(
            "index_dirty", sa.Boolean(), nullable=False, server_default=sa.true()
        ),
    )
    op.create_index(
        "ix_workflows_workflow_index_dirty",
        "workflows_workflow",
        ["index_dirty"],
        postgresql_where=sa.text("index_dirty"),
        sqlite_where=sa.text("index_dirty"),
    )
    op.add_column(
        "workflows_task",
        sa.Column(
            "status", sa.String(length=16), nullable=False, server_default="pending"
        ),
    )
    op.add_column(
        "workflows_task",
        sa.Column("pending_parents", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("workflows_task", sa.Column("children", _json_type()))
    op.add_column("workflows_task", sa.Column("sent_at", sa.DateTime(timezone=True)))
    op.add_column(
        "workflows_task", sa.Column("lease_expires_at", sa.DateTime(timezone=True))
    )
    op.add_column(
        "workflows_task",
        sa.Column(
            "index_dirty", sa.Boolean(), nullable=False, server_default=sa.true()
        ),
    )
    op.create_index("ix_workflows_task_status", "workflows_task", ["status"])
    op.create_index(
        "ix_workflows_task_index_dirty",
        "workflows_task",
        ["index_dirty"],
        postgresql_where=sa.text("index_dirty"),
        sqlite_where=sa.text("index_dirty"),
    )
    op.alter_column("workflows_task", "status", server_default=None)
    _fill_engine_columns()


def _fill_engine_columns():
    """Derive the new columns of existing rows from their documents."""
    connection = op.get_bind()
    tasks = sa.table(
        "workflows_task",
        sa.column("id", sqlalchemy_utils.UUIDType()),
        sa.column("workflow_id", sqlalchemy_utils.UUIDType()),
        sa.column("json", _json_type()),
        sa.column("status", sa.String()),
        sa.column("pending_parents", sa.Integer()),
        sa.column("children", _json_type()),
    )
    workflows = sa.table(
        "workflows_workflow",
        sa.column("id", sqlalchemy_utils.UUIDType()),
        sa.column("task_counts", _json_type()),
        sa.column("version_id", sa.Integer()),
        sa.column("index_seq", sa.Integer()),
    )
    # Documents already indexed carry their revision (version_id - 1) as
    # external version: start the new sequence above it.
    connection.execute(workflows.update().values(index_seq=workflows.c.version_id))
    by_workflow = {}
    for row in connection.execute(
        sa.select(tasks.c.id, tasks.c.workflow_id, tasks.c.json)
    ):
        by_workflow.setdefault(row.workflow_id, []).append(row)
    for workflow_id, rows in by_workflow.items():
        status = {str(r.id): (r.json or {}).get("status", "pending") for r in rows}
        children = {str(r.id): [] for r in rows}
        for row in rows:
            for parent in (row.json or {}).get("parents", []):
                children.setdefault(parent, []).append(str(row.id))
        counts = {}
        for row in rows:
            parents = (row.json or {}).get("parents", [])
            counts[status[str(row.id)]] = counts.get(status[str(row.id)], 0) + 1
            connection.execute(
                tasks.update()
                .where(tasks.c.id == row.id)
                .values(
                    status=status[str(row.id)],
                    children=children[str(row.id)],
                    pending_parents=sum(
                        1 for p in parents if status.get(p) != "succeeded"
                    ),
                )
            )
        connection.execute(
            workflows.update()
            .where(workflows.c.id == workflow_id)
            .values(task_counts=dict(sorted(counts.items())))
        )


def downgrade():
    """Drop the engine columns."""
    op.drop_index("ix_workflows_task_index_dirty", table_name="workflows_task")
    op.drop_index("ix_workflows_task_status", table_name="workflows_task")
    for column in (
        "index_dirty",
        "lease_expires_at",
        "sent_at",
        "children",
        "pending_parents",
        "status",
    ):
        op.drop_column("workflows_task", column)
    op.drop_index("ix_workflows_workflow_index_dirty", table_name="workflows_workflow")
    for column in ("index_dirty", "index_seq", "task_counts"):
        op.drop_column("workflows_workflow", column)

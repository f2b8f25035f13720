# SPDX-License-Identifier: MIT
"""Create the workflow and task tables and their version tables."""

import sqlalchemy as sa
import sqlalchemy_utils
from alembic import op

# revision identifiers, used by Alembic.
revision = "7d2b4c1e8a21"
down_revision = "6a1c0e2f9b10"
branch_labels = ()
depends_on = None


def _json_type():
    return sqlalchemy_utils.JSONType().with_variant(
        sa.dialects.postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _record_columns(versioned):
    """Columns every record table has (nullable and no autoincrement in versions)."""
    required = not versioned
    return [
        sa.Column("created", sa.DateTime(timezone=True), nullable=not required),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=not required),
        sa.Column("id", sqlalchemy_utils.types.uuid.UUIDType(), nullable=False),
        sa.Column("json", _json_type(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=not required),
    ]


def _version_columns():
    return [
        sa.Column("transaction_id", sa.BigInteger(), nullable=False),
        sa.Column("end_transaction_id", sa.BigInteger(), nullable=True),
        sa.Column("operation_type", sa.SmallInteger(), nullable=False),
    ]


def _version_indexes(table):
    for column in ("end_transaction_id", "operation_type", "transaction_id"):
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade():
    """Upgrade database."""
    op.create_table(
        "workflows_workflow",
        *_record_columns(versioned=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows_workflow")),
        sa.UniqueConstraint(
            "name",
            "idempotency_key",
            name="uq_workflows_workflow_name_idempotency_key",
        ),
    )
    op.create_index(op.f("ix_workflows_workflow_name"), "workflows_workflow", ["name"])
    op.create_table(
        "workflows_workflow_version",
        *_record_columns(versioned=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        *_version_columns(),
        sa.PrimaryKeyConstraint(
            "id", "transaction_id", name=op.f("pk_workflows_workflow_version")
        ),
    )
    _version_indexes("workflows_workflow_version")
    op.create_index(
        op.f("ix_workflows_workflow_version_name"),
        "workflows_workflow_version",
        ["name"],
    )

    op.create_table(
        "workflows_task",
        *_record_columns(versioned=False),
        sa.Column(
            "workflow_id", sqlalchemy_utils.types.uuid.UUIDType(), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows_workflow.id"],
            name=op.f("fk_workflows_task_workflow_id_workflows_workflow"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows_task")),
    )
    op.create_index(
        op.f("ix_workflows_task_workflow_id"), "workflows_task", ["workflow_id"]
    )
    op.create_table(
        "workflows_task_version",
        *_record_columns(versioned=True),
        sa.Column("workflow_id", sqlalchemy_utils.types.uuid.UUIDType(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        *_version_columns(),
        sa.PrimaryKeyConstraint(
            "id", "transaction_id", name=op.f("pk_workflows_task_version")
        ),
    )
    _version_indexes("workflows_task_version")
    op.create_index(
        op.f("ix_workflows_task_version_workflow_id"),
        "workflows_task_version",
        ["workflow_id"],
    )


def downgrade():
    """Downgrade database."""
    op.drop_table("workflows_task_version")
    op.drop_table("workflows_task")
    op.drop_table("workflows_workflow_version")
    op.drop_table("workflows_workflow")

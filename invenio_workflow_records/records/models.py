# SPDX-License-Identifier: MIT
"""Database models of workflows and their tasks.

Both tables are versioned (SQLAlchemy-Continuum): every save of a record is a
row in the ``*_version`` table, and these rows are the run history.
"""

from invenio_db import db
from invenio_records.models import RecordMetadataBase
from sqlalchemy_utils.types import UUIDType


class WorkflowMetadata(db.Model, RecordMetadataBase):
    """A workflow run: its JSON document plus the columns used for lookups."""

    __tablename__ = "workflows_workflow"
    __versioned__ = {}

    name = db.Column(db.String(255), nullable=False, index=True)
    """Registered definition name (also in the JSON, kept here for lookups)."""

    idempotency_key = db.Column(db.String(255), nullable=True)
    """Client-chosen key that makes creation idempotent per definition name."""

    __table_args__ = (
        db.UniqueConstraint(
            "name",
            "idempotency_key",
            name="uq_workflows_workflow_name_idempotency_key",
        ),
    )


class WorkflowTaskMetadata(db.Model, RecordMetadataBase):
    """One node of a workflow's plan and the state of its latest attempt."""

    __tablename__ = "workflows_task"
    __versioned__ = {}

    workflow_id = db.Column(
        UUIDType,
        db.ForeignKey(WorkflowMetadata.id, ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    """The workflow this task belongs to."""

    position = db.Column(db.Integer, nullable=False, default=0)
    """Index of the task in plan order (a topological order of the DAG)."""

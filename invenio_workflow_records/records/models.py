# SPDX-License-Identifier: MIT
"""Database models of workflows and their tasks.

Both tables are versioned (SQLAlchemy-Continuum): every save of a record is a
row in the ``*_version`` table, and these rows are the run history.

Beside the JSON document, each row carries engine-owned columns that are not
part of the history (excluded from versioning): the live task counters of a
workflow, a task's count of unfinished parents and its children (so an event
touches only the task and its direct children), the dispatch and lease
deadlines of the recovery pass, and the index queue flag (``index_dirty``):
a row whose current state is not yet in the search index.
"""

from invenio_db import db
from invenio_records.models import RecordMetadataBase
from sqlalchemy.dialects import postgresql
from sqlalchemy_utils.types import JSONType, UUIDType

JSON = (
    db.JSON()
    .with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
    .with_variant(JSONType(), "sqlite")
)


class UTCDateTime(db.UTCDateTime):
    """invenio-db's timezone-aware UTC timestamp, safe for SQLAlchemy's statement cache.

    The engine runs the same few statements for every event: with
    ``cache_ok = False`` (invenio-db's choice) every one of them would be
    compiled again each time.
    """

    cache_ok = True


ENGINE_COLUMNS_WORKFLOW = ("task_counts", "index_seq", "index_dirty")
"""Workflow columns that are engine state, not history (not versioned)."""

ENGINE_COLUMNS_TASK = (
    "status",
    "pending_parents",
    "children",
    "sent_at",
    "lease_expires_at",
    "index_dirty",
)
"""Task columns that are engine state, not history (not versioned)."""


class WorkflowMetadata(db.Model, RecordMetadataBase):
    """A workflow run: its JSON document plus the columns used for lookups."""

    __tablename__ = "workflows_workflow"
    __versioned__ = {"exclude": list(ENGINE_COLUMNS_WORKFLOW)}

    name = db.Column(db.String(255), nullable=False, index=True)
    """Registered definition name (also in the JSON, kept here for lookups)."""

    idempotency_key = db.Column(db.String(255), nullable=True)
    """Client-chosen key that makes creation idempotent per definition name."""

    task_counts = db.Column(JSON, nullable=True)
    """Live number of tasks in each status, kept by every transition."""

    index_seq = db.Column(db.Integer, nullable=False, default=1, server_default="1")
    """Bumped by every write of the row: the external version of its index document.

    The counters change without a new revision, so the revision id alone
    cannot order the workflow's index documents.
    """

    index_dirty = db.Column(
        db.Boolean, nullable=False, default=True, server_default=db.true()
    )
    """Whether the row changed since it was last indexed (the index queue)."""

    __table_args__ = (
        db.UniqueConstraint(
            "name",
            "idempotency_key",
            name="uq_workflows_workflow_name_idempotency_key",
        ),
        db.Index(
            "ix_workflows_workflow_index_dirty",
            "index_dirty",
            postgresql_where=db.text("index_dirty"),
            sqlite_where=db.text("index_dirty"),
        ),
    )


class WorkflowTaskMetadata(db.Model, RecordMetadataBase):
    """One node of a workflow's plan and the state of its latest attempt."""

    __tablename__ = "workflows_task"
    __versioned__ = {"exclude": list(ENGINE_COLUMNS_TASK)}

    workflow_id = db.Column(
        UUIDType,
        db.ForeignKey(WorkflowMetadata.id, ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    """The workflow this task belongs to."""

    position = db.Column(db.Integer, nullable=False, default=0)
    """Index of the task in plan order (a topological order of the DAG)."""

    status = db.Column(db.String(16), nullable=False, default="pending")
    """Copy of the document's status, for the recovery pass and recounts."""

    pending_parents = db.Column(
        db.Integer, nullable=False, default=0, server_default="0"
    )
    """Number of parents that have not succeeded: the task is ready at zero."""

    children = db.Column(JSON, nullable=True)
    """Ids of the tasks that take this task as a parent (reverse edges)."""

    sent_at = db.Column(UTCDateTime, nullable=True)
    """When the queued attempt's message was sent; NULL: not sent (the outbox)."""

    lease_expires_at = db.Column(UTCDateTime, nullable=True)
    """Until when the worker running the attempt is presumed alive."""

    index_dirty = db.Column(
        db.Boolean, nullable=False, default=True, server_default=db.true()
    )
    """Whether the row changed since it was last indexed (the index queue)."""

    __table_args__ = (
        db.Index("ix_workflows_task_status", "status"),
        db.Index(
            "ix_workflows_task_index_dirty",
            "index_dirty",
            postgresql_where=db.text("index_dirty"),
            sqlite_where=db.text("index_dirty"),
        ),
    )

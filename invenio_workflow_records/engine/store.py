# SPDX-License-Identifier: MIT
"""The engine's data path: small SQL statements on the workflow and task rows.

An event reads only what it concerns (the workflow row, locked, the task and,
on success, its direct children) and writes with a constant number of
statements: one UPDATE of the changed task rows (an executemany), one
``INSERT ... SELECT`` of their version rows (the history), one UPDATE of the
workflow row (live counters, index queue). The records API is not used on
this path: engine transitions change engine-owned fields only, so the JSON
schema validation and the system fields of a record save would only cost
time (the services still validate what users send).

All transitions of one workflow are serialized by a row lock on the workflow
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write lock, taken by
``BEGIN IMMEDIATE``), always taken before any task row is read.
"""

import json
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from invenio_db import db
from sqlalchemy.orm.util import identity_key
from sqlalchemy_continuum import version_class, versioning_manager

from ..records.models import WorkflowMetadata, WorkflowTaskMetadata

WORKFLOWS = WorkflowMetadata.__table__
TASKS = WorkflowTaskMetadata.__table__

INSERT, UPDATE = 0, 1
"""SQLAlchemy-Continuum's operation types of a version row."""

VERSION_ONLY_COLUMNS = ("transaction_id", "end_transaction_id", "operation_type")


def utcnow():
    """The current time, timezone-aware."""
    return datetime.now(timezone.utc)


def as_uuid(value):
    """A UUID from a UUID or its text."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class WorkflowState(dict):
    """A workflow's document and engine columns, read under its row lock."""

    def __init__(self, row):
        """State from a row of ``workflows_workflow``."""
        super().__init__(row.json)
        self.id = row.id
        self.version_id = row.version_id
        self.counts = {k: v for k, v in (row.task_counts or {}).items() if v}


class TaskState(dict):
    """A task's document and engine columns, and what an event changed in them.

    ``revised`` tasks get a new revision (document and version row);
    ``touched`` ones only have an engine column changed (no revision).
    """

    def __init__(self, row=None, **columns):
        """State from a row of ``workflows_task`` (or given columns, for new tasks)."""
        source = row._mapping if row is not None else columns
        super().__init__(source["json"])
        self.id = source["id"]
        self.workflow_id = source["workflow_id"]
        self.version_id = source["version_id"]
        self.position = source["position"]
        self.pending_parents = source["pending_parents"]
        self.children = list(source["children"] or [])
        self.sent_at = source["sent_at"]
        self.lease_expires_at = source["lease_expires_at"]
        self.new = row is None
        self.revised = False
        self.touched = False

    @property
    def key(self):
        """The task id as text (the form used in ``parents`` and ``children``)."""
        return str(self.id)


TASK_COLUMNS = (
    TASKS.c.id,
    TASKS.c.json,
    TASKS.c.workflow_id,
    TASKS.c.version_id,
    TASKS.c.position,
    TASKS.c.pending_parents,
    TASKS.c.children,
    TASKS.c.sent_at,
    TASKS.c.lease_expires_at,
)
WORKFLOW_COLUMNS = (
    WORKFLOWS.c.id,
    WORKFLOWS.c.json,
    WORKFLOWS.c.version_id,
    WORKFLOWS.c.task_counts,
)


# Reads


def lock_workflow(workflow_id):
    """The workflow's state, its row locked for the rest of the transaction."""
    statement = (
        sa.select(*WORKFLOW_COLUMNS)
        .where(WORKFLOWS.c.id == as_uuid(workflow_id))
        .with_for_update()
    )
    row = db.session.execute(statement).one_or_none()
    return WorkflowState(row) if row is not None else None


def lock_workflow_of_task(task_id):
    """The workflow of task ``task_id`` (its row locked) and the task, in one query.

    Returns ``(WorkflowState, TaskState)``, or ``(None, None)`` for an
    unknown task. Only the workflow row is locked (``FOR UPDATE OF``).
    """
    task_columns = [column.label(f"task_{column.name}") for column in TASK_COLUMNS]
    statement = (
        sa.select(*WORKFLOW_COLUMNS, *task_columns)
        .select_from(TASKS.join(WORKFLOWS, WORKFLOWS.c.id == TASKS.c.workflow_id))
        .where(TASKS.c.id == as_uuid(task_id))
        .with_for_update(of=WORKFLOWS)
    )
    row = db.session.execute(statement).one_or_none()
    if row is None:
        return None, None
    values = row._mapping
    task = TaskState(
        **{column.name: values[f"task_{column.name}"] for column in TASK_COLUMNS}
    )
    task.new = False
    return WorkflowState(row), task


def load_tasks(ids):
    """The states of the tasks with these ids, by id text."""
    ids = [as_uuid(i) for i in ids]
    if not ids:
        return {}
    rows = db.session.execute(sa.select(*TASK_COLUMNS).where(TASKS.c.id.in_(ids)))
    return {str(row.id): TaskState(row) for row in rows}


def load_workflow_tasks(workflow_id):
    """The states of all tasks of a workflow, in plan order."""
    statement = (
        sa.select(*TASK_COLUMNS)
        .where(TASKS.c.workflow_id == as_uuid(workflow_id))
        .order_by(TASKS.c.position)
    )
    return [TaskState(row) for row in db.session.execute(statement)]


def count_statuses(workflow_id):
    """Number of tasks in each status, counted from the rows (for checks)."""
    statement = (
        sa.select(TASKS.c.status, sa.func.count())
        .where(TASKS.c.workflow_id == as_uuid(workflow_id))
        .group_by(TASKS.c.status)
    )
    return dict(sorted(db.session.execute(statement).all()))


# Writes


def next_transaction_id():
    """A new SQLAlchemy-Continuum transaction id for the version rows we write.

    Taken from Continuum's own sequence (or table, on SQLite), so revisions
    written here and through the ORM stay ordered by transaction id. On
    PostgreSQL this is an expression evaluated by the first version INSERT
    (no round trip of its own); later INSERTs of the same event reuse it.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return TransactionId()
    table = versioning_manager.transaction_cls.__table__
    result = db.session.execute(table.insert().values(issued_at=utcnow()))
    return result.inserted_primary_key[0]


class TransactionId:
    """A transaction id drawn from the sequence by the first statement using it."""

    def __init__(self):
        """Not drawn yet."""
        self.drawn = False

    def expression(self):
        """``nextval`` the first time (evaluated once per statement), then ``currval``."""
        function = "currval" if self.drawn else "nextval"
        self.drawn = True
        return sa.select(
            getattr(sa.func, function)("transaction_id_seq")
        ).scalar_subquery()


def _insert_versions(model_cls, where, transaction_id, operation):
    """Copy the rows selected by ``where`` into the model's version table."""
    source = model_cls.__table__
    versions = version_class(model_cls).__table__
    names = [c.name for c in versions.c if c.name not in VERSION_ONLY_COLUMNS]
    if isinstance(transaction_id, TransactionId):
        transaction = transaction_id.expression()
    else:
        transaction = sa.literal(transaction_id, sa.BigInteger)
    select = sa.select(
        *[source.c[name] for name in names],
        transaction,
        sa.literal(operation, sa.SmallInteger),
    ).where(where)
    db.session.execute(
        versions.insert().from_select(
            names + ["transaction_id", "operation_type"], select
        )
    )


def _forget(model_cls, ids):
    """Expire ORM copies of rows written here, so later ORM reads see the change."""
    session = db.session()
    for each in ids:
        model = session.identity_map.get(identity_key(model_cls, as_uuid(each)))
        if model is not None:
            session.expire(model)


def insert_tasks(workflow_id, tasks, transaction_id):
    """Insert new tasks and their first version rows (two multi-row statements)."""
    now = utcnow()
    db.session.execute(
        TASKS.insert(),
        [
            {
                "id": task.id,
                "json": dict(task),
                "created": now,
                "updated": now,
                "version_id": 1,
                "workflow_id": as_uuid(workflow_id),
                "position": task.position,
                "status": task["status"],
                "pending_parents": task.pending_parents,
                "children": task.children,
                "sent_at": task.sent_at,
                "lease_expires_at": task.lease_expires_at,
                "index_dirty": True,
            }
            for task in tasks
        ],
    )
    for task in tasks:
        task.version_id = 1
    _insert_versions(
        WorkflowTaskMetadata,
        TASKS.c.workflow_id == as_uuid(workflow_id),
        transaction_id,
        INSERT,
    )


def update_tasks(tasks, transaction_id):
    """Write changed tasks: a revision for revised ones, columns for the others."""
    revised = [t for t in tasks if t.revised]
    touched = [t for t in tasks if t.touched and not t.revised]
    now = utcnow()
    if revised:
        statement = (
            TASKS.update()
            .where(TASKS.c.id == sa.bindparam("task_id"))
            .values(
                json=sa.bindparam("json"),
                status=sa.bindparam("status"),
                version_id=sa.bindparam("new_version"),
                updated=sa.bindparam("now"),
                pending_parents=sa.bindparam("pending"),
                sent_at=sa.bindparam("sent"),
                lease_expires_at=sa.bindparam("lease"),
                index_dirty=True,
            )
        )
        db.session.execute(
            statement,
            [
                {
                    "task_id": t.id,
                    "json": dict(t),
                    "status": t["status"],
                    "new_version": t.version_id + 1,
                    "now": now,
                    "pending": t.pending_parents,
                    "sent": t.sent_at,
                    "lease": t.lease_expires_at,
                }
                for t in revised
            ],
        )
        for task in revised:
            task.version_id += 1
        _insert_versions(
            WorkflowTaskMetadata,
            TASKS.c.id.in_([t.id for t in revised]),
            transaction_id,
            UPDATE,
        )
    if touched:
        statement = (
            TASKS.update()
            .where(TASKS.c.id == sa.bindparam("task_id"))
            .values(
                pending_parents=sa.bindparam("pending"),
                sent_at=sa.bindparam("sent"),
                lease_expires_at=sa.bindparam("lease"),
            )
        )
        db.session.execute(
            statement,
            [
                {
                    "task_id": t.id,
                    "pending": t.pending_parents,
                    "sent": t.sent_at,
                    "lease": t.lease_expires_at,
                }
                for t in touched
            ],
        )
    _forget(WorkflowTaskMetadata, [t.id for t in revised])


def update_workflow(workflow, counts, revise, transaction_id, created=False):
    """Write the workflow's counters, and its document as a new revision if ``revise``.

    ``created``: the workflow was created in this transaction; its document
    replaces that first revision instead of adding one (as SQLAlchemy-Continuum
    merges the changes of one transaction into one version).
    """
    values = {
        "task_counts": counts,
        "index_seq": WORKFLOWS.c.index_seq + 1,
        "index_dirty": True,
    }
    if revise:
        values.update(json=dict(workflow), updated=utcnow())
        if not created:
            values["version_id"] = workflow.version_id + 1
    db.session.execute(
        WORKFLOWS.update().where(WORKFLOWS.c.id == workflow.id).values(**values)
    )
    if revise and created:
        versions = version_class(WorkflowMetadata).__table__
        db.session.execute(
            versions.update()
            .where(
                versions.c.id == workflow.id,
                versions.c.version_id == workflow.version_id,
            )
            .values(json=dict(workflow), updated=values["updated"])
        )
    elif revise:
        workflow.version_id += 1
        _insert_versions(
            WorkflowMetadata, WORKFLOWS.c.id == workflow.id, transaction_id, UPDATE
        )
    _forget(WorkflowMetadata, [workflow.id])


def set_sent(task_ids, sent_at, connection=None):
    """Record when the messages of these tasks were sent (None: not sent).

    On ``connection`` when given (a transaction of its own), else in the
    session's transaction.
    """
    statement = (
        TASKS.update()
        .where(TASKS.c.id.in_([as_uuid(i) for i in task_ids]))
        .values(sent_at=sent_at)
    )
    (connection or db.session).execute(statement)


def renew_lease(connection, task_id, celery_id, until):
    """Extend the lease of a running attempt; False if it is no longer the holder."""
    statement = (
        TASKS.update()
        .where(
            TASKS.c.id == as_uuid(task_id),
            TASKS.c.status == "running",
            TASKS.c.json["celery_id"].as_string() == celery_id,
        )
        .values(lease_expires_at=until)
    )
    return connection.execute(statement).rowcount == 1


def is_postgresql():
    """Whether the session's database is PostgreSQL."""
    return db.session.get_bind().dialect.name == "postgresql"


def _version_names(model_cls):
    """Columns that a version row copies from its record row."""
    versions = version_class(model_cls).__table__
    return [c.name for c in versions.c if c.name not in VERSION_ONLY_COLUMNS]


def write_event_postgresql(workflow, counts, revise, tasks):
    """Write one event's changes in ONE statement (PostgreSQL).

    Data-modifying CTEs: the changed task rows are updated from a VALUES
    list, their version rows inserted from the UPDATE's RETURNING, the
    workflow row updated (and its version row inserted when it gets a
    revision), all with one transaction id drawn once from Continuum's
    sequence. One round trip instead of one per statement.
    """
    params = {"wid": workflow.id, "counts": json.dumps(counts), "now": utcnow()}
    ctes = ["tx AS (SELECT nextval('transaction_id_seq') AS id)"]
    task_names = _version_names(WorkflowTaskMetadata)
    rows = []
    for index, task in enumerate(tasks):
        revised = bool(task.revised)
        rows.append(
            f"(CAST(:id{index} AS uuid), CAST(:json{index} AS jsonb), "
            f"CAST(:status{index} AS varchar), CAST(:version{index} AS integer), "
            f"CAST(:pending{index} AS integer), CAST(:sent{index} AS timestamptz), "
            f"CAST(:lease{index} AS timestamptz), CAST(:revise{index} AS boolean))"
        )
        params.update(
            {
                f"id{index}": task.id,
                f"json{index}": json.dumps(dict(task)),
                f"status{index}": task["status"],
                f"version{index}": task.version_id + (1 if revised else 0),
                f"pending{index}": task.pending_parents,
                f"sent{index}": task.sent_at,
                f"lease{index}": task.lease_expires_at,
                f"revise{index}": revised,
            }
        )
    if rows:
        ctes.append(
            "v(id, json, status, version_id, pending_parents, sent_at, "
            f"lease_expires_at, revise) AS (VALUES {', '.join(rows)})"
        )
        ctes.append(
            "t AS (UPDATE workflows_task AS t SET "
            "json = CASE WHEN v.revise THEN v.json ELSE t.json END, "
            "status = v.status, version_id = v.version_id, "
            "updated = CASE WHEN v.revise THEN CAST(:now AS timestamptz) "
            "ELSE t.updated END, "
            "pending_parents = v.pending_parents, sent_at = v.sent_at, "
            "lease_expires_at = v.lease_expires_at, "
            "index_dirty = t.index_dirty OR v.revise "
            "FROM v WHERE t.id = v.id "
            f"RETURNING {', '.join('t.' + n for n in task_names)}, v.revise)"
        )
        ctes.append(
            "tv AS (INSERT INTO workflows_task_version "
            f"({', '.join(task_names)}, transaction_id, operation_type) "
            f"SELECT {', '.join(task_names)}, (SELECT id FROM tx), {UPDATE} "
            "FROM t WHERE t.revise)"
        )
    sets = [
        "task_counts = CAST(:counts AS jsonb)",
        "index_seq = index_seq + 1",
        "index_dirty = true",
    ]
    if revise:
        sets += [
            "json = CAST(:wjson AS jsonb)",
            "version_id = :wversion",
            "updated = CAST(:now AS timestamptz)",
        ]
        params.update(
            wjson=json.dumps(dict(workflow)), wversion=workflow.version_id + 1
        )
    workflow_update = (
        f"UPDATE workflows_workflow SET {', '.join(sets)} WHERE id = CAST(:wid AS uuid)"
    )
    if revise:
        names = _version_names(WorkflowMetadata)
        ctes.append(f"w AS ({workflow_update} RETURNING {', '.join(names)})")
        final = (
            "INSERT INTO workflows_workflow_version "
            f"({', '.join(names)}, transaction_id, operation_type) "
            f"SELECT {', '.join(names)}, (SELECT id FROM tx), {UPDATE} FROM w"
        )
    else:
        final = workflow_update
    db.session.execute(sa.text(f"WITH {', '.join(ctes)} {final}"), params)
    for task in tasks:
        if task.revised:
            task.version_id += 1
    if revise:
        workflow.version_id += 1
    _forget(WorkflowTaskMetadata, [t.id for t in tasks if t.revised])
    _forget(WorkflowMetadata, [workflow.id])

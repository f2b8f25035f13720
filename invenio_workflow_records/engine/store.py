# SPDX-License-Identifier: MIT
"""Loading and saving workflow and task records for the engine.

All transitions of one workflow are serialized by a row lock on the workflow
(``SELECT ... FOR UPDATE`` on PostgreSQL), always taken before any task row,
so two tasks finishing at once cannot both dispatch, or both miss, their
common child.
"""

from invenio_records_resources.services.uow import RecordCommitOp

from ..proxies import current_workflows
from ..records import TaskRecord, WorkflowRecord
from ..services.uow import BulkRecordCommitOp


def lock_workflow(workflow_id):
    """The workflow record, locked for the rest of the transaction."""
    model = (
        WorkflowRecord.model_cls.query.filter_by(id=workflow_id)
        .with_for_update()
        .populate_existing()
        .one()
    )
    return WorkflowRecord(model.data, model=model)


def load_tasks(workflow_id):
    """All tasks of a workflow in plan order, fresh from the database."""
    models = (
        TaskRecord.model_cls.query.filter_by(workflow_id=workflow_id)
        .order_by(TaskRecord.model_cls.position)
        .populate_existing()
        .all()
    )
    return [TaskRecord(model.data, model=model) for model in models]


def save_workflow(uow, workflow):
    """Save the workflow (a new revision) and index it after commit."""
    uow.register(RecordCommitOp(workflow, current_workflows.workflows_service.indexer))


def save_tasks(uow, tasks):
    """Save tasks (a revision each) and index them in one bulk request."""
    if tasks:
        uow.register(BulkRecordCommitOp(tasks, current_workflows.tasks_service.indexer))

# SPDX-License-Identifier: MIT
"""Record APIs of workflows and tasks."""

from uuid import UUID

from invenio_records.dumpers import SearchDumper
from invenio_records.systemfields import ConstantField
from invenio_records_resources.records.api import Record
from invenio_records_resources.records.systemfields import IndexField

from .models import WorkflowMetadata, WorkflowTaskMetadata
from .systemfields import (
    ColumnCopyField,
    IndexQueueField,
    ModelInitField,
    RecordIdField,
)

WORKFLOW_SCHEMA = "local://workflows/workflow-v1.0.0.json"
TASK_SCHEMA = "local://workflows/task-v1.0.0.json"


class WorkflowRecord(Record):
    """A workflow run: one record per run of a definition, its revisions the history."""

    model_cls = WorkflowMetadata
    pid_type = "wflow"

    schema = ConstantField("$schema", WORKFLOW_SCHEMA)
    index = IndexField(
        "workflows-workflow-v1.0.0", search_alias="workflows-workflow-v1.0.0"
    )
    pid = RecordIdField()
    name_column = ColumnCopyField("name")
    idempotency_key_column = ColumnCopyField("idempotency_key")
    index_queue = IndexQueueField(sequence=True)

    dumper = SearchDumper(model_fields={"id": ("id", UUID)})

    def __repr__(self):
        """Short representation for logs."""
        return f"<WorkflowRecord {self.id} {self.get('name')} {self.get('status')}>"


class TaskRecord(Record):
    """One node of a workflow's plan; each state change is a new revision."""

    model_cls = WorkflowTaskMetadata
    pid_type = "wftask"

    schema = ConstantField("$schema", TASK_SCHEMA)
    index = IndexField("workflows-task-v1.0.0", search_alias="workflows-task-v1.0.0")
    pid = RecordIdField()
    workflow_id_column = ColumnCopyField("workflow_id", cast=UUID)
    position = ModelInitField("position")
    status_column = ColumnCopyField("status")
    index_queue = IndexQueueField()

    dumper = SearchDumper(
        model_fields={"id": ("id", UUID), "position": ("position", int)}
    )

    @classmethod
    def get_workflow_tasks(cls, workflow_id, for_update=False):
        """All task records of a workflow, in plan order."""
        query = cls.model_cls.query.filter_by(workflow_id=UUID(str(workflow_id)))
        if for_update:
            query = query.with_for_update()
        models = query.order_by(cls.model_cls.position).populate_existing().all()
        return [cls(model.data, model=model) for model in models]

    @classmethod
    def get_workflow_tasks_page(cls, workflow_id, page=1, size=None):
        """One page of a workflow's tasks in plan order, and their total count."""
        query = cls.model_cls.query.filter_by(workflow_id=UUID(str(workflow_id)))
        total = query.count()
        query = query.order_by(cls.model_cls.position).populate_existing()
        if size is not None:
            query = query.offset((page - 1) * size).limit(size)
        return [cls(model.data, model=model) for model in query.all()], total

    def __repr__(self):
        """Short representation for logs."""
        return f"<TaskRecord {self.id} {self.get('key')} {self.get('status')}>"

# SPDX-License-Identifier: MIT
"""The tasks service: the tasks of workflow runs, one by one or searched."""

from invenio_pidstore.errors import PIDDoesNotExistError
from invenio_records_resources.services.uow import unit_of_work
from marshmallow import ValidationError

from ...definitions import InvalidParamsError
from ...engine import runner
from ...records import TaskRecord, WorkflowRecord
from ..base import WorkflowServiceBase
from ..results import RecordListResult
from ..workflows.service import owner_of
from .schema import TaskRestartSchema


class TasksService(WorkflowServiceBase):
    """Read, list and search workflow tasks."""

    def resolve(self, workflow_id, task_id):
        """The workflow and one of its tasks; 404 unless the task is in it."""
        task = TaskRecord.pid.resolve(task_id)
        if str(task["workflow_id"]) != str(workflow_id):
            raise PIDDoesNotExistError(TaskRecord.pid_type, task_id)
        return WorkflowRecord.pid.resolve(workflow_id), task

    def read(self, identity, workflow_id, task_id, expand=False):
        """One task of a workflow."""
        workflow, task = self.resolve(workflow_id, task_id)
        self.require_permission(identity, "read_task", workflow=workflow)
        return self.result_item(
            self, identity, task, links_tpl=self.links_item_tpl, expand=expand
        )

    def list(self, identity, workflow_id, page=1, size=None):
        """The tasks of a workflow with their parents, in plan order, a page at a time.

        Read from the database, so the tasks are there the moment the
        workflow is created, before the index is refreshed. ``size`` None
        gives every task.
        """
        workflow = WorkflowRecord.pid.resolve(workflow_id)
        self.require_permission(identity, "read_task", workflow=workflow)
        tasks, total = TaskRecord.get_workflow_tasks_page(workflow.id, page, size)
        return RecordListResult(self, identity, tasks, total)

    search_action = "search_tasks"

    def check_permission(self, identity, action_name, **kwargs):
        """``search`` on tasks is the ``search_tasks`` action of the policy."""
        if action_name == "search":
            action_name = "search_tasks"
        return super().check_permission(identity, action_name, **kwargs)

    @unit_of_work()
    def restart(self, identity, workflow_id, task_id, data=None, uow=None):
        """Run a task again, by default with everything downstream of it.

        Returns ``{"dry_run", "downstream", "tasks": [ids]}``: the tasks that
        were (or, with ``dry_run``, would be) reset.
        """
        workflow, task = self.resolve(workflow_id, task_id)
        self.require_permission(identity, "restart_task", workflow=workflow)
        body = TaskRestartSchema().load(data or {})
        definition = self.definition_of(workflow["name"])
        if definition is not None and body["params"]:
            # The task will see the run's params overlaid with these.
            try:
                definition.effective_params(
                    {**workflow.get("params", {}), **body["params"]}
                )
            except InvalidParamsError as error:
                raise ValidationError({e["field"]: e["messages"] for e in error.errors})
        affected = runner.restart_task(
            workflow.id,
            task.id,
            body["params"],
            body["downstream"],
            body["dry_run"],
            uow,
            actor=owner_of(identity),
        )
        return {
            "dry_run": body["dry_run"],
            "downstream": body["downstream"],
            "tasks": affected,
        }

    @unit_of_work()
    def stop(self, identity, workflow_id, task_id, uow=None):
        """Stop a task; what depends on it is skipped."""
        workflow, task = self.resolve(workflow_id, task_id)
        self.require_permission(identity, "stop_task", workflow=workflow)
        runner.stop_task(workflow.id, task.id, uow, actor=owner_of(identity))
        task = TaskRecord.pid.resolve(task.id)
        return self.result_item(self, identity, task, links_tpl=self.links_item_tpl)

    def read_revisions(self, identity, workflow_id, task_id, page=1, size=25):
        """The task's revisions, newest first."""
        workflow, task = self.resolve(workflow_id, task_id)
        self.require_permission(identity, "read_task", workflow=workflow)
        return self.revisions(identity, task, page=page, size=size)

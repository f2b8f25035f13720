# SPDX-License-Identifier: MIT
"""Action links of workflows and tasks, present only when the action is possible.

A client (or the dashboard) shows a button for each link: the link is there
when the identity may do the action and the record's state allows it.
"""

from invenio_records_resources.services import EndpointLink

from ..proxies import current_workflows

WORKFLOW_ACTIONS = {
    "start": lambda w: w.get("status") == "created",
    "stop": lambda w: w.get("status") == "running",
    "restart": lambda w: w.get("run", 0) > 0,
    "resume": lambda w: w.get("status") in ("failed", "stopped"),
}
"""Workflow actions and the states that allow them."""

TASK_ACTIONS = {
    "stop": lambda t: t.get("status") in ("pending", "queued", "running", "retrying"),
    "restart": lambda t: t.get("run", 0) > 0,
}
"""Task actions and the states that allow them."""


def _workflow_may(action):
    allowed_in = WORKFLOW_ACTIONS[action]

    def when(workflow, context):
        identity = context.get("identity")
        if identity is None or not allowed_in(workflow):
            return False
        service = current_workflows.workflows_service
        return service.check_permission(identity, action, workflow=workflow)

    return when


def _task_may(action):
    allowed_in = TASK_ACTIONS[action]

    def when(task, context):
        identity = context.get("identity")
        if identity is None or not allowed_in(task):
            return False
        # Tasks carry copies of their workflow's name and owner.
        workflow = {"name": task.get("workflow_name"), "owner": task.get("owner")}
        service = current_workflows.tasks_service
        return service.check_permission(identity, f"{action}_task", workflow=workflow)

    return when


def workflow_action_links():
    """``start``, ``stop``, ``restart`` and ``resume`` links of a workflow."""

    def link(action):
        def variables(workflow, values):
            values.update(id=str(workflow.id), action=action)

        return EndpointLink(
            "workflows.action",
            when=_workflow_may(action),
            vars=variables,
            params=["id", "action"],
        )

    return {action: link(action) for action in WORKFLOW_ACTIONS}


def task_action_links():
    """``stop`` and ``restart`` links of a task."""

    def link(action):
        def variables(task, values):
            values.update(
                id=str(task["workflow_id"]), task_id=str(task.id), action=action
            )

        return EndpointLink(
            "workflow_tasks.action",
            when=_task_may(action),
            vars=variables,
            params=["id", "task_id", "action"],
        )

    return {action: link(action) for action in TASK_ACTIONS}

# SPDX-License-Identifier: MIT
"""Turn a compiled plan into the task records of a workflow run."""

import json
import uuid

from ..definitions import InvalidDefinitionError
from ..records.api import TASK_SCHEMA
from .store import TaskState


def task_data(workflow, node, task_id_by_key):
    """The initial (``pending``) document of the task of one plan node."""
    data = {
        "$schema": TASK_SCHEMA,
        "workflow_id": str(workflow.id),
        "workflow_name": workflow["name"],
        "owner": workflow["owner"],
        "name": node.task,
        "short_name": node.task.rsplit(".", 1)[-1],
        "key": node.key,
        "parents": [task_id_by_key[key] for key in node.parents],
        "status": "pending",
        "run": workflow["run"],
        "attempt": 0,
        "args": list(node.args),
        "kwargs": dict(node.kwargs),
        "input": node.input,
        "options": dict(node.options),
    }
    try:
        json.dumps([data["args"], data["kwargs"], data["options"]])
    except (TypeError, ValueError) as error:
        raise InvalidDefinitionError(
            f"Workflow '{workflow['name']}': the arguments of task '{node.key}' "
            f"({node.task}) must be JSON-serializable: {error}"
        )
    return data


def build_tasks(workflow, plan):
    """The ``pending`` task states of a new workflow, one per plan node, unsaved.

    Each knows its children (the reverse edges) and its number of parents,
    so that events never need to read the whole plan.
    """
    task_id_by_key = {node.key: uuid.uuid4() for node in plan}
    children = {node.key: [] for node in plan}
    for node in plan:
        for parent in node.parents:
            children[parent].append(str(task_id_by_key[node.key]))
    text_ids = {key: str(value) for key, value in task_id_by_key.items()}
    return [
        TaskState(
            id=task_id_by_key[node.key],
            json=task_data(workflow, node, text_ids),
            workflow_id=workflow.id,
            version_id=0,
            position=position,
            pending_parents=len(node.parents),
            children=children[node.key],
            sent_at=None,
            lease_expires_at=None,
        )
        for position, node in enumerate(plan)
    ]

# SPDX-License-Identifier: MIT
"""Turn a compiled plan into the task records of a workflow run."""

import json
import uuid

from ..definitions import InvalidDefinitionError
from ..records import TaskRecord


def task_data(workflow, node, task_id_by_key):
    """The initial (``pending``) document of the task of one plan node."""
    data = {
        "workflow_id": str(workflow.id),
        "workflow_name": workflow["name"],
        "owner": workflow["owner"],
        "name": node.task,
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


def build_task_records(workflow, plan):
    """Create one ``pending`` task record per plan node, in plan order."""
    task_id_by_key = {node.key: str(uuid.uuid4()) for node in plan}
    return [
        TaskRecord.create(
            task_data(workflow, node, task_id_by_key),
            id_=uuid.UUID(task_id_by_key[node.key]),
            position=position,
        )
        for position, node in enumerate(plan)
    ]

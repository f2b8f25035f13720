# SPDX-License-Identifier: MIT
"""The engine: what each action and each task event changes, and what it sends.

Every function works inside a unit of work: it changes records, registers
their saves, and registers the Celery messages (sent after the commit). The
caller, a service or the task base class, owns the unit of work.
"""

from invenio_records_resources.services.uow import TaskRevokeOp

from ..definitions import UnknownWorkflowError
from ..proxies import current_definitions
from .dispatch import queue_task
from .errors import WorkflowStateError
from .status import FINISHED, RERUNNABLE, RUNNING, derive_status, task_counts
from .store import load_tasks, lock_workflow, save_tasks, save_workflow
from .timestamps import now

RESET_KEYS = (
    "celery_id",
    "result",
    "message",
    "error",
    "progress",
    "retries",
    "worker",
    "queued_at",
    "started_at",
    "finished_at",
)


class Run:
    """One workflow and its tasks, locked, with the changes of one action."""

    def __init__(self, workflow_id, uow):
        """Lock the workflow and load its tasks."""
        self.uow = uow
        self.workflow = lock_workflow(workflow_id)
        self.tasks = load_tasks(workflow_id)
        self.by_id = {str(task.id): task for task in self.tasks}
        self.changed = {}
        self.lifecycle_event = False

    # Graph helpers

    def parents(self, task):
        """The task's parents, in result order."""
        return [self.by_id[parent_id] for parent_id in task["parents"]]

    def downstream(self, task):
        """Every task that depends on ``task``, transitively, in plan order."""
        found = {str(task.id)}
        for other in self.tasks:
            if found & set(other["parents"]):
                found.add(str(other.id))
        found.discard(str(task.id))
        return [t for t in self.tasks if str(t.id) in found]

    # Changes

    def touch(self, task):
        """Remember that ``task`` must be saved."""
        self.changed[str(task.id)] = task

    def set_status(self, task, status, **fields):
        """Change a task's status and fields."""
        task["status"] = status
        task.update(fields)
        self.touch(task)

    def reset(self, task, overrides=None):
        """Make a task ``pending`` again, for the current run."""
        for key in RESET_KEYS:
            task.pop(key, None)
        task["overrides"] = dict(overrides or {})
        task["run"] = self.workflow["run"]
        self.set_status(task, "pending")

    def revoke(self, task):
        """Terminate the task's running attempt, after commit."""
        if task.get("celery_id"):
            self.uow.register(TaskRevokeOp(task["celery_id"]))

    def halt(self, task, status, message):
        """Stop or skip a task that has not finished, terminating it if it runs.

        A queued message needs no revoke: its attempt is no longer current,
        so the worker drops it before it runs.
        """
        if task["status"] in RUNNING:
            self.revoke(task)
        self.set_status(task, status, message=message, finished_at=now())

    def skip_downstream(self, task, message):
        """Skip every pending task that depends on ``task``."""
        for child in self.downstream(task):
            if child["status"] == "pending":
                self.set_status(child, "skipped", message=message)

    def dispatch_ready(self):
        """Queue every pending task whose parents all succeeded."""
        for task in self.tasks:
            parents = self.parents(task)
            if task["status"] == "pending" and all(
                parent["status"] == "succeeded" for parent in parents
            ):
                queue_task(self.uow, task, parents, self.workflow.get("params", {}))
                self.touch(task)

    def custom_status(self):
        """The status a ``workflow_class`` computes itself, if it overrides it."""
        try:
            definition = current_definitions.get(self.workflow["name"])
        except UnknownWorkflowError:
            return None
        return definition.create_workflow(record=self.workflow, tasks=self.tasks).status

    def finish(self, event=False):
        """Save what changed; the workflow gets a revision when its status moves.

        ``event`` forces a workflow revision (start, stop, restart, resume).
        """
        save_tasks(self.uow, list(self.changed.values()))
        statuses = [task["status"] for task in self.tasks]
        status = self.custom_status() or derive_status(
            statuses, started=self.workflow["run"] > 0
        )
        moved = status != self.workflow["status"]
        if not (moved or event):
            return
        self.workflow["status"] = status
        self.workflow["task_counts"] = task_counts(statuses)
        if status in ("succeeded", "failed", "stopped"):
            self.workflow["finished_at"] = now()
        else:
            self.workflow.pop("finished_at", None)
        save_workflow(self.uow, self.workflow)


# Workflow actions


def start(workflow_id, params, uow):
    """Start a created workflow: dispatch its roots."""
    run = Run(workflow_id, uow)
    if run.workflow["status"] != "created" or run.workflow["run"] != 0:
        raise WorkflowStateError(
            f"The workflow is {run.workflow['status']}: only a created "
            "workflow can be started (restart or resume it instead)."
        )
    _begin_run(run, params, run.tasks)
    return run.workflow


def restart(workflow_id, params, uow):
    """Stop what runs and run every task again, as run ``run + 1``."""
    run = Run(workflow_id, uow)
    if run.workflow["run"] == 0:
        raise WorkflowStateError("The workflow was never started: start it.")
    for task in run.tasks:
        if task["status"] in RUNNING:
            run.revoke(task)
    _begin_run(run, params, run.tasks)
    return run.workflow


def resume(workflow_id, params, uow):
    """Run again the tasks that did not succeed; keep the others' results."""
    run = Run(workflow_id, uow)
    if run.workflow["status"] not in ("failed", "stopped"):
        raise WorkflowStateError(
            f"The workflow is {run.workflow['status']}: only a failed or "
            "stopped workflow can be resumed."
        )
    params = {**run.workflow.get("params", {}), **(params or {})}
    rerun = [task for task in run.tasks if task["status"] in RERUNNABLE]
    run.workflow["params"] = params
    run.workflow.pop("message", None)
    for task in rerun:
        run.reset(task)
    run.dispatch_ready()
    run.finish(event=True)
    return run.workflow


def _begin_run(run, params, tasks):
    run.workflow["run"] += 1
    run.workflow["params"] = params
    run.workflow["started_at"] = now()
    run.workflow.pop("message", None)
    for task in tasks:
        run.reset(task)
    run.dispatch_ready()
    run.finish(event=True)


def stop(workflow_id, uow, message="Stopped by a user."):
    """Stop everything that has not finished; dispatch nothing more."""
    run = Run(workflow_id, uow)
    if run.workflow["status"] != "running":
        raise WorkflowStateError(
            f"The workflow is {run.workflow['status']}: only a running "
            "workflow can be stopped."
        )
    for task in run.tasks:
        if task["status"] not in FINISHED:
            run.halt(task, "stopped", message)
    run.workflow["message"] = message
    run.finish(event=True)
    return run.workflow


# Task actions


def find_task(run, task_id):
    """The task of this workflow with this id (KeyError if not one of its tasks)."""
    return run.by_id[str(task_id)]


def restart_task(workflow_id, task_id, overrides, downstream, dry_run, uow):
    """Run one task again (and, by default, everything downstream of it).

    Returns the ids of the tasks that are (or, with ``dry_run``, would be)
    reset.
    """
    run = Run(workflow_id, uow)
    task = find_task(run, task_id)
    if run.workflow["run"] == 0:
        raise WorkflowStateError("The workflow was never started: start it.")
    affected = [task] + (run.downstream(task) if downstream else [])
    if dry_run:
        return [str(t.id) for t in affected]
    for each in affected:
        if each["status"] in RUNNING:
            run.revoke(each)
        run.reset(each, overrides=overrides if each is task else None)
    run.dispatch_ready()
    run.finish(event=True)
    return [str(t.id) for t in affected]


def stop_task(workflow_id, task_id, uow, message="Stopped by a user."):
    """Stop one task and skip what depends on it."""
    run = Run(workflow_id, uow)
    task = find_task(run, task_id)
    if task["status"] in FINISHED:
        raise WorkflowStateError(
            f"The task is {task['status']}: only a pending, queued or running "
            "task can be stopped."
        )
    run.halt(task, "stopped", message)
    run.skip_downstream(task, "An upstream task was stopped.")
    run.finish()
    return task


# Task events, from the task base class in a worker


def is_current(task, celery_id, statuses):
    """Whether a message with ``celery_id`` is the task's current attempt."""
    return task.get("celery_id") == celery_id and task["status"] in statuses


def task_started(workflow_id, task_id, celery_id, worker, retries, uow):
    """Record that the current attempt starts; False means: do not run it."""
    run = Run(workflow_id, uow)
    task = run.by_id.get(str(task_id))
    # "running" too: a message redelivered after its worker died runs again.
    if task is None or not is_current(
        task, celery_id, ("queued", "retrying", "running")
    ):
        return None
    if run.workflow["status"] == "stopped":
        return None
    run.set_status(task, "running", started_at=now(), worker=worker, retries=retries)
    run.finish()
    return run.workflow


def task_succeeded(workflow_id, task_id, celery_id, result, uow):
    """Store the result and dispatch the children that became ready."""
    run = Run(workflow_id, uow)
    task = run.by_id.get(str(task_id))
    if task is None or not is_current(task, celery_id, ("running",)):
        return False
    task.pop("error", None)
    run.set_status(task, "succeeded", result=result, finished_at=now())
    run.dispatch_ready()
    run.finish()
    return True


def task_failed(workflow_id, task_id, celery_id, error, uow):
    """Record the error and skip everything downstream."""
    run = Run(workflow_id, uow)
    task = run.by_id.get(str(task_id))
    if task is None or not is_current(task, celery_id, ("running", "retrying")):
        return False
    run.set_status(
        task, "failed", error=error, message=error["message"], finished_at=now()
    )
    run.skip_downstream(task, "An upstream task failed.")
    run.workflow["message"] = f"Task {task['key']} ({task['name']}) failed."
    run.finish()
    return True


def task_retrying(workflow_id, task_id, celery_id, error, retries, uow):
    """Record that the attempt failed and Celery will retry it."""
    run = Run(workflow_id, uow)
    task = run.by_id.get(str(task_id))
    if task is None or not is_current(task, celery_id, ("running",)):
        return False
    run.set_status(
        task, "retrying", error=error, message=error["message"], retries=retries
    )
    run.finish()
    return True


def task_progress(workflow_id, task_id, celery_id, progress, uow):
    """Store the progress of the running attempt."""
    run = Run(workflow_id, uow)
    task = run.by_id.get(str(task_id))
    if task is None or not is_current(task, celery_id, ("running",)):
        return False
    run.set_status(task, "running", progress=progress)
    run.finish()
    return True

# SPDX-License-Identifier: MIT
"""The engine: what each action and each task event changes, and what it sends.

Every function works inside a unit of work: it changes task and workflow
states under the workflow's row lock, writes them (see :mod:`.store`) and
registers the Celery messages and the index drain, which run after the
commit. The caller, a service or the task base class, owns the unit of work.

Task events touch only the task, its direct children and the workflow's
counters. User actions (start, stop, restart, resume, task restart and stop)
and failures load every task of the workflow: they act on the whole graph.
"""

from datetime import timedelta
from functools import lru_cache

from flask import current_app

from ..definitions import UnknownWorkflowError
from ..proxies import current_definitions
from . import store
from .dispatch import RevokeOp, SendTaskOp, call_message, queue_task
from .errors import WorkflowStateError
from .index_queue import schedule_index_drain
from .status import FINISHED, RERUNNABLE, RUNNING, derive_status
from .timestamps import now, seconds_between

RESET_KEYS = (
    "celery_id",
    "result",
    "message",
    "error",
    "progress",
    "retries",
    "lost",
    "resends",
    "duration",
    "worker",
    "queued_at",
    "started_at",
    "finished_at",
)


class Run:
    """One workflow, locked, and the changes one action or event makes to it."""

    def __init__(self, workflow, uow):
        """Work on ``workflow`` (a locked :class:`.store.WorkflowState`)."""
        self.uow = uow
        self.workflow = workflow
        self.counts = dict(workflow.counts)
        self.loaded = {}
        self.all_loaded = False
        self.queued = []
        self.created = False
        self.actor = None

    @classmethod
    def of_workflow(cls, workflow_id, uow):
        """Lock the workflow ``workflow_id``."""
        workflow = store.lock_workflow(workflow_id)
        if workflow is None:
            raise KeyError(workflow_id)
        return cls(workflow, uow)

    @classmethod
    def of_task(cls, task_id, uow):
        """Lock the workflow of task ``task_id``: ``(run, task)``, or ``(None, None)``."""
        workflow, task = store.lock_workflow_of_task(task_id)
        if workflow is None:
            return None, None
        run = cls(workflow, uow)
        run.add([task])
        return run, task

    # Loading

    def add(self, tasks):
        """Remember loaded or new tasks; keep the copy already loaded."""
        for task in tasks:
            self.loaded.setdefault(task.key, task)
        return [self.loaded[task.key] for task in tasks]

    def add_new(self, tasks):
        """Adopt the tasks of a workflow created in this transaction (unsaved)."""
        self.add(tasks)
        self.all_loaded = True
        for task in tasks:
            self.counts[task["status"]] = self.counts.get(task["status"], 0) + 1

    def tasks(self):
        """Every task of the workflow, in plan order (loaded once)."""
        if not self.all_loaded:
            self.add(store.load_workflow_tasks(self.workflow.id))
            self.all_loaded = True
        return sorted(self.loaded.values(), key=lambda task: task.position)

    def get(self, ids):
        """The tasks with these ids, loading those not loaded yet, in that order."""
        ids = [str(i) for i in ids]
        missing = [i for i in ids if i not in self.loaded]
        if missing:
            self.add(store.load_tasks(missing).values())
        return [self.loaded[i] for i in ids]

    def task(self, task_id):
        """One task of this workflow, or None."""
        key = str(task_id)
        if key not in self.loaded:
            self.add(store.load_tasks([key]).values())
        task = self.loaded.get(key)
        if task is None or task.workflow_id != self.workflow.id:
            return None
        return task

    # Graph helpers

    def parents(self, task):
        """The task's parents, in result order."""
        return self.get(task["parents"])

    def downstream(self, task):
        """Every task that depends on ``task``, transitively, in plan order."""
        tasks = self.tasks()
        found = {task.key}
        for other in tasks:
            if found & set(other["parents"]):
                found.add(other.key)
        found.discard(task.key)
        return [t for t in tasks if t.key in found]

    # Changes

    def set_status(self, task, status, **fields):
        """Change a task's status and fields (a new revision of the task)."""
        before = task["status"]
        if before != status:
            self.counts[before] = self.counts.get(before, 0) - 1
            self.counts[status] = self.counts.get(status, 0) + 1
        task["status"] = status
        task.update(fields)
        if status in FINISHED:
            task["duration"] = seconds_between(
                task.get("started_at"), task.get("finished_at")
            )
            if task["duration"] is None:
                task.pop("duration")
        if status != "running":
            task.lease_expires_at = None
        task.revised = True

    def reset(self, task, overrides=None):
        """Make a task ``pending`` again, for the current run."""
        for key in RESET_KEYS:
            task.pop(key, None)
        task["overrides"] = dict(overrides or {})
        task["run"] = self.workflow["run"]
        task.sent_at = None
        self.set_status(task, "pending")

    def revoke(self, task):
        """Terminate the task's running attempt, after commit."""
        if task.get("celery_id"):
            self.uow.register(RevokeOp(task["celery_id"]))

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

    def queue(self, task):
        """Send ``task`` (pending, all parents succeeded) after the commit."""
        parents = self.parents(task)
        send = queue_task(task, parents, self.workflow.get("params", {}))
        task.sent_at = store.utcnow()
        self.set_status(task, "queued")
        self.queued.append((task, send))

    def parent_succeeded(self, task):
        """Count down the children of a succeeded task; queue those now ready."""
        for child in self.get(task.children):
            if child["status"] != "pending":
                continue
            child.pending_parents = max(child.pending_parents - 1, 0)
            child.touched = True
            if child.pending_parents == 0:
                self.queue(child)

    def recount_parents(self):
        """Recompute every pending task's count of unfinished parents (all loaded)."""
        by_key = {task.key: task for task in self.tasks()}
        for task in by_key.values():
            if task["status"] != "pending":
                continue
            waiting = sum(
                1 for p in task["parents"] if by_key[p]["status"] != "succeeded"
            )
            if waiting != task.pending_parents:
                task.pending_parents = waiting
                task.touched = True

    def dispatch_ready(self):
        """Queue every pending task whose parents all succeeded (all loaded)."""
        self.recount_parents()
        for task in self.tasks():
            if task["status"] == "pending" and task.pending_parents == 0:
                self.queue(task)

    # Status and saving

    def custom_status(self):
        """The status a ``workflow_class`` computes itself, if it overrides it."""
        try:
            definition = current_definitions.get(self.workflow["name"])
        except UnknownWorkflowError:
            return None
        workflow_class = definition.workflow_class
        if workflow_class is None or "status" not in _overridden(workflow_class):
            return None
        return definition.create_workflow(
            record=self.workflow, tasks=self.tasks()
        ).status

    def positive_counts(self):
        """The counters without zero entries, sorted by status."""
        return {k: v for k, v in sorted(self.counts.items()) if v > 0}

    def finish(self, event=False):
        """Write what changed; the workflow gets a revision when its status moves.

        ``event`` forces a workflow revision (start, stop, restart, resume).
        """
        counts = self.positive_counts()
        status = self.custom_status() or derive_status(
            counts, started=self.workflow["run"] > 0
        )
        revise = event or status != self.workflow["status"]
        if revise:
            self.workflow["status"] = status
            self.workflow["task_counts"] = counts
            if status in ("succeeded", "failed", "stopped"):
                self.workflow["finished_at"] = now()
                self.workflow["duration"] = seconds_between(
                    self.workflow.get("started_at"), self.workflow["finished_at"]
                )
            else:
                self.workflow.pop("finished_at", None)
                self.workflow.pop("duration", None)
            _set_actor(self.workflow, self.actor)
        for task in self.loaded.values():
            if task.revised:
                _set_actor(task, self.actor)
        new = [t for t in self.loaded.values() if t.new]
        changed = [
            t for t in self.loaded.values() if not t.new and (t.revised or t.touched)
        ]
        if not new and not self.created and store.is_postgresql():
            store.write_event_postgresql(self.workflow, counts, revise, changed)
            self._after_commit()
            return self.workflow
        transaction_id = store.next_transaction_id()
        if new:
            store.insert_tasks(self.workflow.id, new, transaction_id)
        store.update_tasks(changed, transaction_id)
        store.update_workflow(
            self.workflow, counts, revise, transaction_id, created=self.created
        )
        self._after_commit()
        return self.workflow

    def _after_commit(self):
        """Register the messages and the index drain, sent after the commit."""
        for task, send in self.queued:
            self.uow.register(SendTaskOp(task.id, *send))
        schedule_index_drain(self.uow)


def _set_actor(document, actor):
    """Record who caused this revision (None: the engine itself)."""
    if actor:
        document["actor"] = dict(actor)
    else:
        document.pop("actor", None)


@lru_cache(maxsize=None)
def _overridden(workflow_class):
    """Names of the ``Workflow`` members that ``workflow_class`` overrides.

    Cached: it is asked on every event of a class-based definition.
    """
    from ..definitions.workflow import Workflow

    return {
        name
        for klass in workflow_class.__mro__
        if klass is not Workflow and issubclass(klass, Workflow)
        for name in vars(klass)
    }


# Workflow actions


def insert_plan(workflow_id, tasks, uow):
    """Write the ``pending`` tasks of a new workflow (bulk)."""
    run = Run.of_workflow(workflow_id, uow)
    run.add_new(tasks)
    return run.finish()


def start(workflow_id, params, uow, new_tasks=None, actor=None):
    """Start a created workflow: dispatch its roots.

    ``new_tasks`` are the tasks of a workflow created in this transaction,
    not written yet: they are written once, already started.
    """
    run = Run.of_workflow(workflow_id, uow)
    run.actor = actor
    if new_tasks is not None:
        run.add_new(new_tasks)
        run.created = True
    if run.workflow["status"] != "created" or run.workflow["run"] != 0:
        raise WorkflowStateError(
            f"The workflow is {run.workflow['status']}: only a created "
            "workflow can be started (restart or resume it instead)."
        )
    return _begin_run(run, params)


def restart(workflow_id, params, uow, actor=None):
    """Stop what runs and run every task again, as run ``run + 1``."""
    run = Run.of_workflow(workflow_id, uow)
    run.actor = actor
    if run.workflow["run"] == 0:
        raise WorkflowStateError("The workflow was never started: start it.")
    for task in run.tasks():
        if task["status"] in RUNNING:
            run.revoke(task)
    return _begin_run(run, params)


def resume(workflow_id, params, uow, actor=None):
    """Run again the tasks that did not succeed; keep the others' results."""
    run = Run.of_workflow(workflow_id, uow)
    run.actor = actor
    if run.workflow["status"] not in ("failed", "stopped"):
        raise WorkflowStateError(
            f"The workflow is {run.workflow['status']}: only a failed or "
            "stopped workflow can be resumed."
        )
    run.workflow["params"] = {**run.workflow.get("params", {}), **(params or {})}
    run.workflow.pop("message", None)
    for task in run.tasks():
        if task["status"] in RERUNNABLE:
            run.reset(task)
    run.dispatch_ready()
    return run.finish(event=True)


def _begin_run(run, params):
    run.workflow["run"] += 1
    run.workflow["params"] = params
    run.workflow["started_at"] = now()
    run.workflow.pop("message", None)
    for task in run.tasks():
        run.reset(task)
    run.dispatch_ready()
    return run.finish(event=True)


def stop(workflow_id, uow, message="Stopped by a user.", actor=None):
    """Stop everything that has not finished; dispatch nothing more."""
    run = Run.of_workflow(workflow_id, uow)
    run.actor = actor
    if run.workflow["status"] != "running":
        raise WorkflowStateError(
            f"The workflow is {run.workflow['status']}: only a running "
            "workflow can be stopped."
        )
    for task in run.tasks():
        if task["status"] not in FINISHED:
            run.halt(task, "stopped", message)
    run.workflow["message"] = message
    return run.finish(event=True)


# Task actions


def find_task(run, task_id):
    """The task of this workflow with this id (KeyError if not one of its tasks)."""
    task = run.task(task_id)
    if task is None:
        raise KeyError(task_id)
    return task


def restart_task(workflow_id, task_id, overrides, downstream, dry_run, uow, actor=None):
    """Run one task again (and, by default, everything downstream of it).

    Returns the ids of the tasks that are (or, with ``dry_run``, would be)
    reset.
    """
    run = Run.of_workflow(workflow_id, uow)
    run.actor = actor
    task = find_task(run, task_id)
    if run.workflow["run"] == 0:
        raise WorkflowStateError("The workflow was never started: start it.")
    affected = [task] + (run.downstream(task) if downstream else [])
    if dry_run:
        return [t.key for t in affected]
    run.workflow.pop("message", None)
    for each in affected:
        if each["status"] in RUNNING:
            run.revoke(each)
        run.reset(each, overrides=overrides if each is task else None)
    run.dispatch_ready()
    run.finish(event=True)
    return [t.key for t in affected]


def stop_task(workflow_id, task_id, uow, message="Stopped by a user.", actor=None):
    """Stop one task and skip what depends on it."""
    run = Run.of_workflow(workflow_id, uow)
    run.actor = actor
    task = find_task(run, task_id)
    if task["status"] in FINISHED:
        raise WorkflowStateError(
            f"The task is {task['status']}: only a pending, queued or running "
            "task can be stopped."
        )
    run.halt(task, "stopped", message)
    run.skip_downstream(task, "An upstream task was stopped.")
    run.finish(event=True)
    return task


# Task events, from the task base class in a worker


def is_current(task, celery_id, statuses):
    """Whether a message with ``celery_id`` is the task's current attempt."""
    return task.get("celery_id") == celery_id and task["status"] in statuses


def lease_seconds():
    """How long a running attempt's lease lasts without renewal."""
    return current_app.config["WORKFLOWS_LEASE_SECONDS"]


def _event_run(task_id, uow):
    """The locked run and the task of an event, or ``(None, None)``."""
    return Run.of_task(task_id, uow)


def task_started(task_id, celery_id, worker, retries, uow):
    """Record that the current attempt starts.

    Returns the workflow (its params are the run's), or None when the
    message must not run: not the current attempt, a stopped workflow, or
    an attempt that a live worker already runs (a duplicate message). A
    ``running`` attempt whose lease expired is taken over: its worker is
    presumed lost and the broker redelivered the message.
    """
    run, task = _event_run(task_id, uow)
    if task is None or not is_current(
        task, celery_id, ("queued", "retrying", "running")
    ):
        return None
    if run.workflow["status"] == "stopped":
        return None
    moment = store.utcnow()
    if task["status"] == "running" and (
        task.lease_expires_at is not None and task.lease_expires_at > moment
    ):
        return None
    run.set_status(task, "running", started_at=now(), worker=worker, retries=retries)
    task.lease_expires_at = moment + timedelta(seconds=lease_seconds())
    task.sent_at = None
    return run.finish()


def task_succeeded(task_id, celery_id, result, uow):
    """Store the result and dispatch the children that became ready."""
    run, task = _event_run(task_id, uow)
    if task is None or not is_current(task, celery_id, ("running",)):
        return False
    task.pop("error", None)
    run.set_status(task, "succeeded", result=result, finished_at=now())
    run.parent_succeeded(task)
    run.finish()
    return True


def task_failed(task_id, celery_id, error, uow):
    """Record the error and skip everything downstream."""
    run, task = _event_run(task_id, uow)
    if task is None or not is_current(task, celery_id, ("running", "retrying")):
        return False
    run.set_status(
        task, "failed", error=error, message=error["message"], finished_at=now()
    )
    run.skip_downstream(task, "An upstream task failed.")
    run.workflow["message"] = f"Task {task['key']} ({task['name']}) failed."
    run.finish()
    return True


def task_retrying(task_id, celery_id, error, retries, uow):
    """Record that the attempt failed and Celery will retry it."""
    run, task = _event_run(task_id, uow)
    if task is None or not is_current(task, celery_id, ("running",)):
        return False
    run.set_status(
        task, "retrying", error=error, message=error["message"], retries=retries
    )
    task.sent_at = store.utcnow()
    run.finish()
    return True


def task_progress(task_id, celery_id, progress, uow):
    """Store the progress of the running attempt."""
    run, task = _event_run(task_id, uow)
    if task is None or not is_current(task, celery_id, ("running",)):
        return False
    run.set_status(task, "running", progress=progress)
    task.lease_expires_at = store.utcnow() + timedelta(seconds=lease_seconds())
    run.finish()
    return True


# Recovery, from the recovery pass


def resend_task(task_id, dispatch_timeout, max_resends, uow):
    """Send again the message of a queued attempt that was not sent or not started.

    The same attempt, the same Celery id: if an earlier copy does arrive,
    the fence lets only one of them run. A message that was sent but never
    started is resent at most ``max_resends`` times (a revision each); then
    the task fails as undeliverable (no worker knows the task, or none can
    decode its message). Returns ``"sent"``, ``"failed"`` or None.
    """
    run, task = _event_run(task_id, uow)
    if task is None or task["status"] not in ("queued", "retrying"):
        return None
    if not _undelivered(task, dispatch_timeout):
        return None
    if task.sent_at is not None:
        resends = task.get("resends", 0) + 1
        if resends > max_resends:
            message = (
                f"The message of attempt {task['attempt']} was sent "
                f"{resends} times and no worker started it: no worker knows "
                f"task {task['name']}, or none can decode its message."
            )
            error = {"type": "Undeliverable", "message": message, "traceback": ""}
            run.set_status(
                task, "failed", error=error, message=message, finished_at=now()
            )
            run.skip_downstream(task, "An upstream task failed.")
            run.workflow["message"] = f"Task {task['key']} ({task['name']}) failed."
            run.finish()
            return "failed"
        task["resends"] = resends
        task["message"] = f"Not started in {dispatch_timeout} s: message resent."
        task.revised = True
    send = call_message(task, run.parents(task), run.workflow.get("params", {}))
    task.sent_at = store.utcnow()
    task.touched = True
    run.queued.append((task, send))
    run.finish()
    return "sent"


def _undelivered(task, dispatch_timeout, moment=None):
    """Whether a queued attempt's message was never sent, or is overdue."""
    moment = moment or store.utcnow()
    if task.sent_at is None:
        return True
    return task.sent_at < moment - timedelta(seconds=dispatch_timeout)


def worker_lost(task_id, retries, uow):
    """Handle a running attempt whose lease expired: a new attempt, or ``failed``.

    Returns ``"retried"``, ``"failed"`` or None (nothing to do any more).
    """
    run, task = _event_run(task_id, uow)
    if task is None or task["status"] != "running":
        return None
    if task.lease_expires_at is None or task.lease_expires_at > store.utcnow():
        return None
    lost = task.get("lost", 0) + 1
    message = (
        f"Worker lost: attempt {task['attempt']} on {task.get('worker', '?')} "
        "stopped renewing its lease."
    )
    task["lost"] = lost
    if lost <= retries:
        run.revoke(task)
        run.queue(task)
        task["message"] = f"{message} Sent again as attempt {task['attempt']}."
        run.finish()
        return "retried"
    error = {"type": "WorkerLost", "message": message, "traceback": ""}
    run.set_status(task, "failed", error=error, message=message, finished_at=now())
    run.skip_downstream(task, "An upstream task failed.")
    run.workflow["message"] = f"Task {task['key']} ({task['name']}) failed."
    run.finish()
    return "failed"

# SPDX-License-Identifier: MIT
"""Time the engine's own bookkeeping per task event, without broker or worker.

Run by hand (a report, not a test of the suite), on PostgreSQL for a
meaningful figure::

    SQLALCHEMY_DATABASE_URI=postgresql+psycopg2://... \\
        pytest benchmarks/test_event_latency.py -s -o addopts=""

Messages are held instead of sent; each task event (running, then
succeeded with its children queued) runs in its own committed unit of work,
as in a worker. Prints create+start time, milliseconds per task for chains
and fan-ins of growing size (constant work per event means a flat line),
and the time of ``GET /workflows/{id}`` on a 1,000-task workflow.
"""

import os
import statistics
import time

import pytest
from celery import chain, group
from invenio_access.permissions import system_identity
from invenio_db import db
from invenio_records_resources.services.uow import UnitOfWork

from invenio_workflow_records.engine import dispatch, runner
from invenio_workflow_records.records import TaskRecord
from tests.mock_module.integration_tasks import add, collect

SIZES = (10, 100, 500, 1000)
CHAINS = {n: chain(add.si(0, 1), *(add.s(1) for _ in range(n - 1))) for n in SIZES}
FANS = {
    n: chain(group(*(add.si(i, 1) for i in range(n))), collect.s()) for n in (100, 1000)
}


def run_all(workflow_id, held):
    """Play every held message as a worker would; the seconds it took."""
    start = time.perf_counter()
    while held:
        name, args, kwargs, celery_id, _ = held.pop(0)
        task_id = celery_id.rsplit(":", 1)[0]
        with UnitOfWork() as uow:
            runner.task_started(task_id, celery_id, "bench", 0, uow)
            uow.commit()
        db.session.close()
        with UnitOfWork() as uow:
            runner.task_succeeded(task_id, celery_id, 1, uow)
            uow.commit()
        db.session.close()
    return time.perf_counter() - start


def test_event_latency(app, db, search_clear, monkeypatch, client):
    """Print per-task bookkeeping time for growing workflows."""
    from invenio_workflow_records.definitions.registry import WorkflowDefinition
    from invenio_workflow_records.proxies import (
        current_definitions,
        current_workflows_service,
    )

    held = []
    monkeypatch.setattr(dispatch, "send_message", lambda *m: held.append(list(m)))
    from invenio_workflow_records.engine import index_queue

    monkeypatch.setattr(index_queue.IndexDrainOp, "on_post_commit", lambda s, u: None)
    print()
    registry = current_definitions
    for label, canvases in (("chain", CHAINS), ("fan-in", FANS)):
        for n, canvas in canvases.items():
            name = f"bench-{label}-{n}"
            registry._resolved[name] = WorkflowDefinition(name=name, canvas=canvas)
            start = time.perf_counter()
            item = current_workflows_service.create(
                system_identity, {"name": name, "start": True}
            )
            db.session.commit()
            created = time.perf_counter() - start
            workflow_id = str(item.id)
            tasks = len(TaskRecord.get_workflow_tasks(workflow_id))
            if os.environ.get("PROFILE") and n == 100 and label == "chain":
                import cProfile
                import pstats

                profile = cProfile.Profile()
                profile.enable()
                took = run_all(workflow_id, held)
                profile.disable()
                pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
            else:
                took = run_all(workflow_id, held)
            print(
                f"{label:>6} {n:>5}: create+start {created * 1000:7.1f} ms; "
                f"{took * 1000 / tasks:6.2f} ms per task ({tasks} tasks, {took:.2f} s)"
            )
    times = []
    for _ in range(30):
        start = time.perf_counter()
        res = client.get(
            f"/workflows/{workflow_id}", headers={"accept": "application/json"}
        )
        times.append(time.perf_counter() - start)
    print(
        f"GET /workflows/<1,001 tasks>: p50 {statistics.median(times) * 1000:.1f} ms ({res.status_code})"
    )

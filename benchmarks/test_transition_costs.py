# SPDX-License-Identifier: MIT
"""Count the database writes and search requests of each task transition.

Run by hand (a report, not a test of the suite)::

    pytest benchmarks/test_transition_costs.py -s -o addopts=""

It drives the engine's transition functions directly, one unit of work per
transition as the task base class does in a worker, and prints one line per
transition: SQL INSERT/UPDATE statements (including the version rows of
SQLAlchemy-Continuum) and requests to the search cluster.
"""

from collections import Counter

import pytest
from invenio_access.permissions import system_identity
from invenio_records_resources.services.uow import UnitOfWork
from invenio_search import current_search_client
from sqlalchemy import event
from sqlalchemy.engine import Engine

from invenio_workflow_records.engine import runner
from invenio_workflow_records.records import TaskRecord


class Meter:
    """Counts SQL writes and search requests while active."""

    def __init__(self):
        """Nothing counted yet."""
        self.sql = Counter()
        self.search = Counter()
        self.active = False

    def on_sql(self, conn, cursor, statement, parameters, context, executemany):
        """Count one SQL statement by table and verb."""
        if not self.active:
            return
        verb = statement.split(None, 1)[0].upper()
        if verb == "WITH":
            # One statement of data-modifying CTEs: name what it writes.
            import re

            writes = re.findall(r"(UPDATE|INSERT INTO) (\w+)", statement)
            self.sql[
                "WITH " + " + ".join(f"{v.split()[0]} {t}" for v, t in writes)
            ] += 1
        elif verb in ("INSERT", "UPDATE", "DELETE"):
            table = statement.split()[2 if verb != "UPDATE" else 1].strip('"')
            self.sql[f"{verb} {table}"] += 1


@pytest.fixture()
def meter(app, monkeypatch):
    """Count writes and search requests."""
    counter = Meter()
    event.listen(Engine, "before_cursor_execute", counter.on_sql)
    transport = current_search_client.transport
    original = transport.perform_request

    def perform_request(method, url, *args, **kwargs):
        if counter.active:
            counter.search[f"{method} {url.split('?')[0]}"] += 1
        return original(method, url, *args, **kwargs)

    monkeypatch.setattr(transport, "perform_request", perform_request)
    yield counter
    event.remove(Engine, "before_cursor_execute", counter.on_sql)


def measure(meter, label, action):
    """Run ``action(uow)`` in a unit of work and print what it cost."""
    meter.sql.clear()
    meter.search.clear()
    meter.active = True
    with UnitOfWork() as uow:
        action(uow)
        uow.commit()
    meter.active = False
    writes = sum(meter.sql.values())
    requests = sum(meter.search.values())
    print(
        f"{label:<42} {writes:>2} SQL writes {dict(meter.sql)}; "
        f"{requests} search requests {dict(meter.search)}"
    )


def test_costs_of_a_three_task_chain(app, db, search_clear, meter, monkeypatch):
    """A chain of three tasks: start, then each task runs and succeeds."""
    from invenio_workflow_records.engine import dispatch

    monkeypatch.setattr(dispatch.SendTaskOp, "on_post_commit", lambda self, uow: None)
    from invenio_workflow_records.engine import index_queue

    monkeypatch.setattr(index_queue.IndexDrainOp, "on_post_commit", lambda s, u: None)
    service = app.extensions["invenio-workflow-records"].workflows_service
    workflow_id = service.create(system_identity, {"name": "it-arithmetic"}).id
    print()
    measure(
        meter,
        "start (3 tasks, 1 root queued)",
        lambda uow: runner.start(workflow_id, {}, uow),
    )
    for key in ("0", "1", "2"):
        task = {t["key"]: t for t in TaskRecord.get_workflow_tasks(workflow_id)}[key]
        celery_id = task["celery_id"]
        measure(
            meter,
            f"task {key}: running",
            lambda uow: runner.task_started(task.id, celery_id, "bench", 0, uow),
        )
        measure(
            meter,
            f"task {key}: succeeded"
            + (" (+ next queued)" if key != "2" else " (+ finish)"),
            lambda uow: runner.task_succeeded(task.id, celery_id, 1, uow),
        )

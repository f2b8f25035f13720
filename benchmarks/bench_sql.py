# SPDX-License-Identifier: MIT
"""Counting the SQL a process sends, for ``benchmarks/compare.py``.

:func:`install` hooks SQLAlchemy's ``after_cursor_execute`` and ``commit``
events on *every* engine of the process (the Flask-SQLAlchemy engine of the
module and the engine of Celery's database result backend alike) and counts:

* ``statements``: every cursor execution (one round trip; an
  ``executemany`` counts once, and so does each batch of SQLAlchemy's
  "insertmanyvalues");
* ``writes``: the executions whose statement is an INSERT, UPDATE or DELETE,
  or a ``WITH`` holding one (a data-modifying CTE), counted the same way;
* ``rows``: the rows those writes reported (``cursor.rowcount``; for an
  ``executemany``, the number of parameter sets). A data-modifying ``WITH``
  reports only the rows of its outer statement: PostgreSQL's
  ``pg_stat_user_tables`` has the true count;
* ``commits``: the transactions committed.

A worker process calls :func:`dump` after each task (Celery's
``task_postrun`` signal): the totals of the process are written to
``<directory>/<role>-<pid>.json`` (overwritten in place, one small
``pwrite``). The benchmark sums the files of a role before and after a run.
"""

import json
import os
import re

from sqlalchemy import event
from sqlalchemy.engine import Engine

COUNTS = {"statements": 0, "writes": 0, "rows": 0, "commits": 0}
"""Totals of this process since :func:`install` (or :func:`reset`)."""

_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")
_MODIFYING = re.compile(
    r"\b(INSERT\s+INTO|UPDATE\s+\S+(\s+AS\s+\S+)?\s+SET|DELETE\s+FROM)\b",
    re.IGNORECASE,
)
_state = {"installed": False, "fd": None, "last": None}


def _after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    COUNTS["statements"] += 1
    verb = statement.lstrip()[:6].upper()
    if verb not in _WRITE_VERBS and not (
        verb.startswith("WITH") and _MODIFYING.search(statement)
    ):
        return
    COUNTS["writes"] += 1
    if executemany:
        COUNTS["rows"] += len(parameters or ())
    else:
        rowcount = getattr(cursor, "rowcount", -1)
        COUNTS["rows"] += rowcount if rowcount is not None and rowcount >= 0 else 1


def _commit(conn):
    COUNTS["commits"] += 1


def install():
    """Count the SQL of every engine of this process (idempotent)."""
    if _state["installed"]:
        return
    event.listen(Engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(Engine, "commit", _commit)
    _state["installed"] = True


def reset():
    """Start counting from zero (e.g. in a freshly forked worker child)."""
    for key in COUNTS:
        COUNTS[key] = 0
    _state["last"] = None
    if _state["fd"] is not None:
        os.close(_state["fd"])
        _state["fd"] = None


def dump(directory, role):
    """Write this process's totals to ``<directory>/<role>-<pid>.json``."""
    if not directory:
        return
    snapshot = json.dumps(COUNTS, sort_keys=True)
    if snapshot == _state["last"]:
        return
    if _state["fd"] is None:
        path = os.path.join(directory, f"{role}-{os.getpid()}.json")
        _state["fd"] = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    # Fixed width: a shorter write never leaves the end of a longer one.
    os.pwrite(_state["fd"], snapshot.ljust(200).encode(), 0)
    _state["last"] = snapshot


def read_totals(directory, role):
    """The sums of the files that the processes of ``role`` wrote."""
    totals = dict.fromkeys(COUNTS, 0)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return totals
    for name in names:
        if not (name.startswith(f"{role}-") and name.endswith(".json")):
            continue
        try:
            with open(os.path.join(directory, name)) as fp:
                text = fp.read().strip()
            values = json.loads(text) if text else {}
        except (OSError, ValueError):
            continue  # being written: the caller reads again until stable
        for key in totals:
            totals[key] += int(values.get(key, 0))
    return totals


def connect_worker_signals(directory, role):
    """In a Celery worker: reset in each child, dump after each task."""
    from celery.signals import task_postrun, worker_process_init

    install()

    @worker_process_init.connect(weak=False)
    def _child_started(**kwargs):
        reset()

    @task_postrun.connect(weak=False)
    def _task_done(**kwargs):
        dump(directory, role)


def exit_with_parent(interval=1.0, grace=10.0):
    """End our process group once the benchmark (``BENCH_PARENT_PID``) is gone.

    A benchmark killed with SIGKILL cannot stop its workers: they would
    consume their queues forever. A daemon thread watches the parent.
    """
    import signal
    import threading
    import time

    parent = os.environ.get("BENCH_PARENT_PID")
    if not parent:
        return None
    parent = int(parent)

    def _watch():
        while os.getppid() == parent:
            time.sleep(interval)
        os.killpg(os.getpgrp(), signal.SIGTERM)
        time.sleep(grace)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    thread = threading.Thread(target=_watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread

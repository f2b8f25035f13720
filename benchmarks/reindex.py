# SPDX-License-Identifier: MIT
"""Throughput of ``invenio workflows reindex`` (a script, not a test).

Builds an application like ``tests/conftest.py`` does, on the database of
``SQLALCHEMY_DATABASE_URI`` (PostgreSQL for a meaningful figure) and an
osmem-server started here (or ``SEARCH_HOSTS`` when set). It recreates the tables and
indices, inserts N finished workflows of T tasks each through the records
API in committed batches, with the engine's columns filled (every row is in
the index queue, nothing is indexed), then optionally drains the queue
(``--drain``), runs the command itself through the CLI runner and prints its
own summary line, and checks the indices (``invenio workflows check``)::

    export WORKFLOWS_SERVICES_DIR=/tmp/reindex-bench-services
    scripts/services.sh start && source "$(scripts/services.sh env)"
    python benchmarks/reindex.py --workflows 10000 --tasks 5 --drain

The tables of that database are dropped and recreated: never point it at a
database you care about (nor at the test suite's while tests run: hence
the services directory of its own above).
"""

import argparse
import ast
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # for tests.mock_module (the tasks of the plan)


def parse_args():
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=10000)
    parser.add_argument("--tasks", type=int, default=5, help="tasks per workflow")
    parser.add_argument(
        "--insert-batch", type=int, default=500, help="workflows per commit"
    )
    parser.add_argument(
        "--batch-size", type=int, default=2000, help="reindex --batch-size"
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="times to run the reindex command"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the rows of a previous run (same --workflows and --tasks)",
    )
    parser.add_argument(
        "--drain",
        action="store_true",
        help="time the drain of the index queue (all rows) before reindexing",
    )
    return parser.parse_args()


def start_search():
    """``SEARCH_HOSTS`` from the environment, else a new osmem-server."""
    if "SEARCH_HOSTS" in os.environ:
        return ast.literal_eval(os.environ["SEARCH_HOSTS"]), None
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False)
    url = urlparse(server.url)
    return [{"host": url.hostname, "port": url.port}], server


def create_app(db_uri, search_hosts, instance_path):
    """The REST API application, configured as the tests configure it."""
    from invenio_app.factory import create_api
    from sqlalchemy.pool import NullPool

    return create_api(
        instance_path=instance_path,
        SQLALCHEMY_DATABASE_URI=db_uri,
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        SQLALCHEMY_ENGINE_OPTIONS={"poolclass": NullPool},
        SEARCH_HOSTS=search_hosts,
        SEARCH_INDEX_PREFIX="bench-reindex-",
        SECRET_KEY="bench-secret-key",
        SECURITY_PASSWORD_SALT="bench-secret-key",
        JSONSCHEMAS_HOST="localhost",
        RECORDS_REFRESOLVER_CLS="invenio_records.resolver.InvenioRefResolver",
        RECORDS_REFRESOLVER_STORE=(
            "invenio_jsonschemas.proxies.current_refresolver_store"
        ),
        CELERY_TASK_ALWAYS_EAGER=True,
        CELERY_BROKER_URL="memory://",
        CELERY_RESULT_BACKEND="cache",
        CELERY_CACHE_BACKEND="memory",
        WORKFLOWS_DEFINITIONS={},
    )


def reset_storage():
    """Drop and create the tables and the search indices."""
    from invenio_db import db
    from invenio_search import current_search

    db.drop_all()
    db.create_all()
    list(current_search.delete(ignore=[404]))
    list(current_search.create(ignore_existing=True))


def chain_plan(length):
    """The plan of a chain of ``length`` tasks (the first one immutable)."""
    from celery import chain

    from invenio_workflow_records.definitions.plan import compile_plan
    from tests.mock_module.tasks import add

    return compile_plan(chain(add.si(1, 2), *[add.s(1) for _ in range(length - 1)]))


def iso(moment):
    """ISO 8601, as the records store it."""
    return moment.isoformat()


def new_record(record_cls, data, id_, validate=False, **kwargs):
    """``record_cls.create`` without its per-record savepoint and flush.

    Same steps (model, pre-create extensions, optional JSON schema
    validation, ``session.add``), so that a whole batch is flushed at once.
    """
    from invenio_db import db

    record = record_cls(data, model=record_cls.model_cls(id=id_, data=data), **kwargs)
    for extension in record_cls._extensions:
        extension.pre_create(record)
    if validate:
        record._validate(use_model=True)
    db.session.add(record.model)
    for extension in record_cls._extensions:
        extension.post_create(record)
    return record


def insert(n_workflows, plan, batch):
    """Insert finished workflows and their tasks, committing every ``batch``.

    Every document comes from the same template: the first workflow and its
    tasks are validated against the JSON schemas, the others are not.
    """
    from invenio_db import db

    from invenio_workflow_records.engine.planning import task_data
    from invenio_workflow_records.records import TaskRecord, WorkflowRecord

    began = datetime.now(timezone.utc) - timedelta(days=1)
    children = {node.key: [] for node in plan}
    for node in plan:
        for parent in node.parents:
            children[parent].append(node.key)
    for number in range(n_workflows):
        validate = number == 0
        started = began + timedelta(seconds=number)
        workflow = new_record(
            WorkflowRecord,
            {
                "name": "bench-chain",
                "title": "Benchmark chain",
                "status": "succeeded",
                "run": 1,
                "params": {"file_id": f"file-{number}", "dpi": 300},
                "subject": {"type": "record", "id": f"rec-{number}"},
                "owner": {"system": True},
                "task_counts": {"succeeded": len(plan)},
                "started_at": iso(started),
                "finished_at": iso(started + timedelta(seconds=len(plan))),
            },
            uuid.uuid4(),
            validate=validate,
        )
        # The engine's columns, as a finished run has them.
        workflow.model.task_counts = {"succeeded": len(plan)}
        workflow.model.index_seq = 2 * len(plan) + 2
        ids = {node.key: str(uuid.uuid4()) for node in plan}
        for position, node in enumerate(plan):
            data = task_data(workflow, node, ids)
            at = started + timedelta(seconds=position)
            data.update(
                status="succeeded",
                attempt=1,
                celery_id=f"{ids[node.key]}:1",
                result=3 + position,
                queued_at=iso(at),
                started_at=iso(at),
                finished_at=iso(at + timedelta(milliseconds=800)),
            )
            task = new_record(
                TaskRecord,
                data,
                uuid.UUID(ids[node.key]),
                validate=validate,
                position=position,
            )
            task.model.status = "succeeded"
            task.model.children = [ids[key] for key in children[node.key]]
        if (number + 1) % batch == 0:
            db.session.commit()
            print(f"  inserted {number + 1}/{n_workflows} workflows", flush=True)
    db.session.commit()


def main():
    """Prepare the data, run the command, print its summary line."""
    args = parse_args()
    db_uri = os.environ.get("SQLALCHEMY_DATABASE_URI")
    if not db_uri:
        sys.exit("Set SQLALCHEMY_DATABASE_URI (see scripts/services.sh).")
    search_hosts, server = start_search()
    try:
        with tempfile.TemporaryDirectory(prefix="wf-bench-") as instance_path:
            app = create_app(db_uri, search_hosts, instance_path)
            with app.app_context():
                run(app, args)
    finally:
        if server is not None:
            server.close()


def run(app, args):
    """The benchmark, in an application context."""
    from invenio_db import db
    from invenio_search import current_search_client
    from invenio_search.utils import build_alias_name

    from invenio_workflow_records import indexing
    from invenio_workflow_records.cli import workflows
    from invenio_workflow_records.records import TaskRecord, WorkflowRecord

    print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
    print(f"search:   {app.config['SEARCH_HOSTS']}")
    plan = chain_plan(args.tasks)
    n_records = args.workflows * (1 + len(plan))
    if args.reuse:
        # The rows of a previous run, all put back on the index queue.
        for model_cls in (WorkflowRecord.model_cls, TaskRecord.model_cls):
            db.session.execute(model_cls.__table__.update().values(index_dirty=True))
        db.session.commit()
    else:
        reset_storage()
        begin = time.monotonic()
        insert(args.workflows, plan, args.insert_batch)
        seconds = time.monotonic() - begin
        print(
            f"inserted {args.workflows} workflows x {len(plan)} tasks in "
            f"{seconds:.1f} s ({n_records / seconds:.0f} records/s)"
        )

    if args.drain:
        begin = time.monotonic()
        result = indexing.drain(max_rounds=n_records)
        seconds = time.monotonic() - begin
        print(
            f"drained {result.indexed} documents in {result.rounds} rounds in "
            f"{seconds:.1f} s ({result.indexed / seconds:.0f} records/s), "
            f"{result.failures} failures"
        )

    runner = app.test_cli_runner()
    for number in range(args.runs):
        result = runner.invoke(
            workflows, ["reindex", "--batch-size", str(args.batch_size)]
        )
        if result.exit_code != 0:
            print(result.output, file=sys.stderr)
            raise SystemExit(f"reindex failed: {result.exception!r}")
        print(f"run {number + 1}: {result.stdout.strip()}")

    for record_cls, expected in (
        (WorkflowRecord, args.workflows),
        (TaskRecord, args.workflows * len(plan)),
    ):
        alias = build_alias_name(record_cls.index._name)
        found = current_search_client.count(index=alias)["count"]
        status = "ok" if found == expected else "MISMATCH"
        print(f"{alias}: {found} documents, {expected} rows ({status})")

    begin = time.monotonic()
    result = runner.invoke(workflows, ["check"])
    seconds = time.monotonic() - begin
    print(f"check in {seconds:.1f} s (exit status {result.exit_code}):")
    print(result.output.rstrip())


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: MIT
"""``invenio workflows reindex``: rebuild the search indices from the database.

Rows are streamed from the database in batches (``yield_per``) and each
batch is sent to the search cluster as one bulk request. Every document
carries its revision as an external version, so a document already indexed
at a newer revision is left alone: the command may run while workers change
records, and the newest revision always wins.
"""

import time

import click
from flask.cli import with_appcontext
from invenio_db import db
from invenio_search import current_search
from invenio_search.utils import build_alias_name
from sqlalchemy import func, select

from ..proxies import current_tasks_service, current_workflows_service
from ..services.uow import bulk_index
from .errors import CLIError, cli_errors

DEFAULT_BATCH_SIZE = 500
"""Records per bulk request (the bulk helper's own chunk size)."""


def ensure_index(record_cls):
    """Create the index of ``record_cls`` (with its aliases) if it is missing.

    Returns True when the index had to be created.
    """
    index = record_cls.index._name
    client = current_search.client
    if client.indices.exists(index=build_alias_name(index)):
        return False
    list(current_search.create(ignore_existing=True, index_list=[index]))
    if not client.indices.exists(index=build_alias_name(index)):
        raise CLIError(
            f"Cannot create the index {index!r}: is it excluded by SEARCH_MAPPINGS?"
        )
    return True


def refresh_index(record_cls):
    """Make what was indexed searchable now."""
    alias = build_alias_name(record_cls.index._name)
    current_search.client.indices.refresh(index=alias)


def count_rows(record_cls):
    """Number of rows of the record class's table."""
    model_cls = record_cls.model_cls
    return db.session.execute(select(func.count()).select_from(model_cls)).scalar()


def iter_batches(record_cls, batch_size):
    """Records built from the table's rows, ``batch_size`` at a time.

    Yields ``(rows_read, records)``; deleted records (no JSON) are counted
    as read but not returned.
    """
    model_cls = record_cls.model_cls
    statement = select(model_cls).execution_options(
        yield_per=batch_size, populate_existing=True
    )
    for models in db.session.execute(statement).scalars().partitions():
        records = [
            record_cls(model.json, model=model)
            for model in models
            if model.json is not None
        ]
        yield len(models), records


def reindex_records(record_cls, indexer, batch_size, on_batch=None):
    """Index every row of ``record_cls`` with one bulk request per batch.

    ``on_batch(rows_read)`` is called after each batch. Returns
    ``(sent, written)``: documents sent, and documents the cluster wrote
    (fewer when a newer revision was already in the index).
    """
    sent = written = 0
    for rows_read, records in iter_batches(record_cls, batch_size):
        if records:
            written += bulk_index(indexer, records)
            sent += len(records)
        if on_batch is not None:
            on_batch(rows_read)
    return sent, written


@click.command("reindex")
@click.option(
    "--workflows/--no-workflows",
    "with_workflows",
    default=True,
    show_default=True,
    help="Reindex the workflows.",
)
@click.option(
    "--tasks/--no-tasks",
    "with_tasks",
    default=True,
    show_default=True,
    help="Reindex the tasks.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Records read per database batch and sent per bulk request.",
)
@with_appcontext
def reindex(with_workflows, with_tasks, batch_size):
    """Rebuild the workflow and task indices from the database.

    Missing indices are created first. A document already indexed at a
    newer revision than its database row is not overwritten.
    """
    services = []
    if with_workflows:
        services.append(("workflows", current_workflows_service))
    if with_tasks:
        services.append(("tasks", current_tasks_service))
    if not services:
        raise click.UsageError("Nothing to do: both --no-workflows and --no-tasks.")

    begin = time.monotonic()
    totals = {"workflows": 0, "tasks": 0}
    not_written = 0
    with cli_errors():
        for label, service in services:
            record_cls = service.record_cls
            if ensure_index(record_cls):
                click.echo(f"Created the missing {label} index.", err=True)
            total = count_rows(record_cls)
            with click.progressbar(
                length=total,
                label=f"Indexing {label}",
                show_pos=True,
                show_percent=True,
                file=click.get_text_stream("stderr"),
            ) as bar:
                sent, written = reindex_records(
                    record_cls, service.indexer, batch_size, on_batch=bar.update
                )
            refresh_index(record_cls)
            totals[label] = written
            not_written += sent - written

    seconds = time.monotonic() - begin
    count = totals["workflows"] + totals["tasks"]
    rate = count / seconds if seconds > 0 else 0.0
    if not_written:
        click.echo(
            f"{not_written} documents were not written: the index already had "
            "a newer revision, or the cluster refused them (see the log).",
            err=True,
        )
    click.echo(
        f"Indexed {totals['workflows']} workflows and {totals['tasks']} tasks "
        f"in {seconds:.2f} s ({rate:.0f} records/s)"
    )

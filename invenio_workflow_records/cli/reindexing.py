# SPDX-License-Identifier: MIT
"""``invenio workflows reindex`` and ``check``: the indices against the database.

``reindex`` makes sure the indices exist with the module's mappings, then
streams every row of the tables into them in bulk requests (see
:func:`invenio_workflow_records.indexing.reindex`). Every document carries
its external version, so a document already indexed at a newer version is
left alone: the command may run while workers change records.

``check`` compares the indices with the tables and exits with status 1
when they differ.
"""

import time

import click
from flask.cli import with_appcontext

from .. import indexing
from .errors import CLIError, cli_errors

DEFAULT_BATCH_SIZE = indexing.REINDEX_CHUNK_SIZE
"""Rows read per database batch, and documents per bulk request."""

LISTED_DIFFERENCES = 20
"""Differences listed per index by ``check`` (all are counted)."""


def _kinds(with_workflows, with_tasks):
    kinds = [
        kind
        for kind, wanted in (("workflows", with_workflows), ("tasks", with_tasks))
        if wanted
    ]
    if not kinds:
        raise click.UsageError("Nothing to do: both --no-workflows and --no-tasks.")
    return kinds


def _ensure_indices(kinds, recreate):
    try:
        done = indexing.ensure_indices(kinds, recreate=recreate)
    except indexing.IndexingError as error:
        raise CLIError(str(error))
    for kind, (action, reason) in done.items():
        if action == "created":
            click.echo(f"Created the missing {kind} index.", err=True)
        elif action == "updated":
            click.echo(f"Updated the mapping of the {kind} index ({reason}).", err=True)
        elif action == "recreated":
            click.echo(f"Recreated the {kind} index ({reason}).", err=True)


def _kind_options(verb):
    def decorate(command):
        command = click.option(
            "--tasks/--no-tasks",
            "with_tasks",
            default=True,
            show_default=True,
            help=f"{verb} the tasks.",
        )(command)
        return click.option(
            "--workflows/--no-workflows",
            "with_workflows",
            default=True,
            show_default=True,
            help=f"{verb} the workflows.",
        )(command)

    return decorate


@click.command("reindex")
@_kind_options("Reindex")
@click.option(
    "--recreate",
    is_flag=True,
    help="Delete and create the indices first (their documents are lost "
    "until indexed again).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Rows read per database batch and documents sent per bulk request.",
)
@with_appcontext
def reindex(with_workflows, with_tasks, recreate, batch_size):
    """Rebuild the workflow and task indices from the database.

    Missing indices, and indices whose mapping is not the module's, are
    created first. A document already indexed at a newer version than its
    database row is not overwritten.
    """
    kinds = _kinds(with_workflows, with_tasks)
    begin = time.monotonic()
    results = {}
    with cli_errors():
        _ensure_indices(kinds, recreate)
        for kind in kinds:
            with click.progressbar(
                length=indexing.count_rows(kind),
                label=f"Indexing {kind}",
                show_pos=True,
                show_percent=True,
                file=click.get_text_stream("stderr"),
            ) as bar:
                results.update(
                    indexing.reindex(
                        [kind],
                        chunk_size=batch_size,
                        on_progress=lambda kind, rows: bar.update(rows),
                    )
                )

    seconds = time.monotonic() - begin
    written = dict.fromkeys(indexing.KINDS, 0)
    written.update((kind, result.written) for kind, result in results.items())
    count = sum(written.values())
    rate = count / seconds if seconds > 0 else 0.0
    stale = sum(result.stale for result in results.values())
    failures = [item for result in results.values() for item in result.failures]
    if stale:
        click.echo(
            f"{stale} documents were not written: the index already had a "
            "newer version.",
            err=True,
        )
    click.echo(
        f"Indexed {written['workflows']} workflows and {written['tasks']} tasks "
        f"in {seconds:.2f} s ({rate:.0f} records/s)"
    )
    if failures:
        ((_, info),) = failures[0].items()
        error = info.get("error")
        if isinstance(error, dict):
            error = error.get("reason") or error.get("type")
        raise CLIError(
            f"{len(failures)} documents failed to index, e.g. {info.get('_id')}: "
            f"{info.get('status')} {error}"
        )


def _describe(kind, result):
    """Lines of ``check``'s report for one index."""
    if not result.index_exists:
        yield f"{kind}: the index is missing ({result.rows} records)"
        return
    summary = (
        f"{kind}: {result.rows} records, {result.documents} documents: "
        f"{len(result.missing)} missing, {len(result.stale)} stale, "
        f"{len(result.extra)} extra"
    )
    if result.queued:
        summary += f" ({result.queued} queued for indexing, not compared)"
    yield summary
    differences = (
        [f"  missing {id_}" for id_ in result.missing]
        + [
            f"  stale   {id_} (indexed version {indexed}, expected {expected})"
            for id_, expected, indexed in result.stale
        ]
        + [f"  extra   {id_}" for id_ in result.extra]
    )
    yield from differences[:LISTED_DIFFERENCES]
    if len(differences) > LISTED_DIFFERENCES:
        yield f"  ... and {len(differences) - LISTED_DIFFERENCES} more"


@click.command("check")
@_kind_options("Check")
@with_appcontext
def check(with_workflows, with_tasks):
    """Compare the workflow and task indices with the database.

    Reports the records without a document, the documents at another
    version than their record's, and the documents without a record; exits
    with status 1 when there are some. Rows waiting in the index queue are
    counted, not compared.
    """
    kinds = _kinds(with_workflows, with_tasks)
    with cli_errors():
        results = indexing.check(kinds)
    for kind in kinds:
        for line in _describe(kind, results[kind]):
            click.echo(line)
    if not all(result.ok for result in results.values()):
        # Documents without a record are only removed with the index.
        extra = any(result.extra for result in results.values())
        command = "reindex --recreate" if extra else "reindex"
        raise CLIError(
            "The search indices differ from the database: run "
            f"`invenio workflows {command}`."
        )

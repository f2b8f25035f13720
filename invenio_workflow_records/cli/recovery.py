# SPDX-License-Identifier: MIT
"""``invenio workflows recover``: find and repair stranded tasks now."""

import click
from flask.cli import with_appcontext

from ..engine.recovery import recover as recovery_pass
from .errors import cli_errors
from .output import echo_json, echo_table


@click.command("recover")
@click.option(
    "--dry-run", is_flag=True, help="Only list what is stranded and what would be done."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_appcontext
def recover(dry_run, as_json):
    """Resend undelivered tasks, take over tasks of lost workers, catch up the index.

    Workers run this pass on their own every WORKFLOWS_RECOVERY_INTERVAL
    seconds; use it after an outage, or with --dry-run to see what is stuck.
    """
    with cli_errors():
        report = recovery_pass(dry_run=dry_run)
    if not report.ran:
        raise click.ClickException("Another recovery pass is running; try again.")
    rows = [
        {
            "kind": f.kind,
            "task": f.task_id,
            "workflow": f.workflow_id,
            "name": f.task_name,
            "found": f.detail,
            "action": f.action if dry_run else f.outcome,
        }
        for f in report.findings
    ]
    if as_json:
        echo_json({"dry_run": dry_run, "findings": rows, "indexed": report.indexed})
        return
    if not rows:
        click.echo("Nothing stranded.")
    else:
        headers = ["kind", "task", "workflow", "name", "found", "action"]
        echo_table(headers, [[row[h] for h in headers] for row in rows])
    if dry_run:
        click.echo(f"Dry run: {len(rows)} stranded, nothing changed.")
    else:
        click.echo(
            f"Repaired {len(report.repaired)} of {len(rows)} stranded; "
            f"indexed {report.indexed} documents."
        )

# SPDX-License-Identifier: MIT
"""Command line: ``invenio workflows ...``."""

import click
from flask.cli import with_appcontext


@click.group()
def workflows():
    """Manage workflow runs."""


@workflows.command("definitions")
@with_appcontext
def definitions():
    """List the registered workflow definitions."""
    from .proxies import current_definitions

    for name in current_definitions.names():
        click.echo(name)

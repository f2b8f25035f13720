# SPDX-License-Identifier: MIT
"""Command line: ``invenio workflows ...``.

``definitions``, ``list``, ``show``, ``start``, ``stop``, ``restart``,
``resume``, ``reindex``, ``check`` and ``recover``. Actions run as the system identity. Errors are
reported as one ``Error: ...`` line with a non-zero exit code.
"""

import click

from .commands import (
    definitions,
    list_workflows,
    restart,
    resume,
    show,
    start,
    stop,
)
from .recovery import recover
from .reindexing import check, reindex


@click.group()
def workflows():
    """Manage workflow runs."""


for _command in (
    definitions,
    list_workflows,
    show,
    start,
    stop,
    restart,
    resume,
    reindex,
    check,
    recover,
):
    workflows.add_command(_command)

__all__ = ("workflows",)

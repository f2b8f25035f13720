# SPDX-License-Identifier: MIT
"""Command line: ``invenio workflows ...``.

Workflows: ``definitions``, ``list``, ``show``, ``start``, ``stop``,
``restart``, ``resume``, ``history``. Tasks: ``tasks`` (search),
``task-show``, ``task-stop``, ``task-restart``. Indices and repairs:
``reindex``, ``check`` and ``recover``. Actions run as the system identity.
Errors are reported as one ``Error: ...`` line with a non-zero exit code.
"""

import click

from .commands import (
    definitions,
    history,
    list_workflows,
    restart,
    resume,
    search_tasks,
    show,
    start,
    stop,
    task_restart,
    task_show,
    task_stop,
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
    history,
    search_tasks,
    task_show,
    task_stop,
    task_restart,
    reindex,
    check,
    recover,
):
    workflows.add_command(_command)

__all__ = ("workflows",)

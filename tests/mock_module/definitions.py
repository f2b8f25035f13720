# SPDX-License-Identifier: MIT
"""Workflow definitions used by the tests."""

from celery import chain, group

from invenio_workflow_records import Workflow

from .tasks import (
    add,
    collect,
    extract,
    fail,
    pages,
    report_progress,
    too_big,
    whoami,
)


class PdfPlots(Workflow):
    """Extract a file's pages, then add in parallel, then collect."""

    title = "PDF plot extraction"
    workflow = chain(extract.s(), group(pages.s(), pages.s(factor=2)), collect.s())
    params_schema = {
        "type": "object",
        "properties": {
            "file_id": {"type": "string"},
            "dpi": {"type": "integer", "minimum": 72},
        },
        "required": ["file_id"],
    }
    default_params = {"dpi": 300}


sums = chain(add.si(1, 2), add.s(10))
"""A two-task chain given as a plain canvas."""


failing = chain(add.si(1, 1), fail.s(), add.s(1))
"""A chain whose middle task fails."""

params_probe = chain(whoami.s(), group(whoami.s(flag="signature"), too_big.si()))
"""Tasks that report what they received, and one whose result is too big."""


class FirstResultWins(Workflow):
    """A workflow that calls itself succeeded as soon as one task succeeded."""

    workflow = chain(add.si(1, 2), fail.s())

    @property
    def status(self):
        """``succeeded`` once any task succeeded, else the engine's status."""
        if any(task["status"] == "succeeded" for task in self.tasks):
            return "succeeded"
        return None


progress = chain(report_progress.s(), add.si(1, 1))
"""A task that reports its progress."""


def open_permissions(workflow, action):
    """A permission factory that lets everybody do everything."""
    from invenio_access import Permission
    from invenio_access.permissions import any_user

    return Permission(any_user)


open_sums = chain(add.si(1, 2), add.s(10))
"""The ``sums`` chain under a permission factory open to everybody."""

# SPDX-License-Identifier: MIT
"""Workflow definitions used by the tests."""

from celery import chain, group

from invenio_workflow_records import Workflow

from .tasks import add, collect, extract


class PdfPlots(Workflow):
    """Extract a file's pages, then add in parallel, then collect."""

    title = "PDF plot extraction"
    workflow = chain(extract.s(), group(add.s(), add.s()), collect.s())
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

# SPDX-License-Identifier: MIT
"""The example workflows of the demo.

``pdf-plots``
    Extract the text and the figures of a PDF in parallel, then index the
    document with both results.

``flaky-import``
    Fetch a record's metadata, import it, publish it. The import fails when
    the run's params say ``{"fail": true}``; resuming the workflow with
    ``{"fail": false}`` runs the import and the publication again and keeps
    the metadata fetched by the first run.

Each task sleeps a little, to make the transitions visible, and returns a
small JSON result.
"""

import time

from celery import chain, group

from .. import Workflow, workflow_task

STEP_SECONDS = 0.6
"""How long each example task works (sleeps)."""


def _work(seconds=STEP_SECONDS):
    time.sleep(seconds)


@workflow_task
def extract_text(file_id):
    """Pretend to extract the text of a PDF file."""
    _work()
    return {"file_id": file_id, "pages": 12, "words": 4210}


@workflow_task
def extract_figures(file_id):
    """Pretend to extract the figures of a PDF file."""
    _work(STEP_SECONDS + 0.2)
    return {"file_id": file_id, "figures": ["fig-1.png", "fig-2.png", "fig-3.png"]}


@workflow_task
def index_document(results, file_id):
    """Index the document with the results of both extractions (a list)."""
    text, figures = results
    _work(STEP_SECONDS - 0.1)
    return {
        "indexed": file_id,
        "pages": text["pages"],
        "figures": len(figures["figures"]),
    }


@workflow_task
def fetch_metadata(record_id):
    """Pretend to fetch the metadata of a record from a remote service."""
    _work()
    return {"record_id": record_id, "title": "On the demo of workflows", "year": 2024}


class ImportFailed(RuntimeError):
    """The failure that ``flaky-import`` simulates."""


@workflow_task
def import_record(metadata, fail=False):
    """Import the fetched metadata; fails on purpose when ``fail`` is true."""
    _work(STEP_SECONDS / 2)
    if fail:
        raise ImportFailed(
            "simulated failure: the remote service timed out (resume the "
            'workflow with {"fail": false})'
        )
    return {"record_id": metadata["record_id"], "imported": True}


@workflow_task
def publish_record(imported):
    """Publish the imported record."""
    _work(STEP_SECONDS / 2)
    return {"record_id": imported["record_id"], "published": True}


class PdfPlots(Workflow):
    """Text and figures in parallel, then indexing."""

    title = "PDF plot extraction (demo)"
    workflow = chain(group(extract_text.s(), extract_figures.s()), index_document.s())
    params_schema = {
        "type": "object",
        "properties": {"file_id": {"type": "string"}},
        "required": ["file_id"],
    }
    default_params = {"file_id": "arXiv-2401.00001.pdf"}


class FlakyImport(Workflow):
    """Fetch, import (fails when ``fail`` is true), publish."""

    title = "Record import that fails once (demo)"
    workflow = chain(fetch_metadata.s(), import_record.s(), publish_record.s())
    params_schema = {
        "type": "object",
        "properties": {
            "record_id": {"type": "string"},
            "fail": {"type": "boolean"},
        },
        "required": ["record_id"],
    }
    default_params = {"record_id": "rec-42", "fail": False}


DEFINITIONS = {
    "pdf-plots": {"workflow_class": f"{__name__}:PdfPlots"},
    "flaky-import": {"workflow_class": f"{__name__}:FlakyImport"},
}
"""``WORKFLOWS_DEFINITIONS`` of the demo."""

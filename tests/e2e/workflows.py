# SPDX-License-Identifier: MIT
"""Workflow definitions of the browser tests and the dashboard benchmark.

``e2e-pipeline``
    prepare, then convert, thumbnail and checksum in parallel, then publish
    (a chain with a group: 5 tasks). ``convert`` fails while the file named
    by the ``marker`` param exists: a test removes it, then restarts the
    failed task with its downstream.
``e2e-slow``
    waits up to ``seconds`` (default 120), then finishes: to be stopped.
``e2e-wide``
    200 tasks: a split, 198 parallel items, a merge (the benchmark's).
"""

import os
import time

from celery import chain, group

from invenio_workflow_records import Workflow, workflow_task


class ConversionFailed(RuntimeError):
    """The failure ``convert`` simulates while its marker file exists."""


@workflow_task
def prepare(marker=""):
    """Pretend to fetch the submission's files."""
    time.sleep(0.2)
    return {"files": 3}


@workflow_task
def convert(prepared, marker=""):
    """Convert the files; fails while the ``marker`` file exists."""
    time.sleep(0.2)
    if marker and os.path.exists(marker):
        raise ConversionFailed(f"converter unavailable (marker file {marker} exists)")
    return {"converted": prepared["files"]}


@workflow_task
def thumbnail(prepared, marker=""):
    """Pretend to draw a thumbnail."""
    time.sleep(0.2)
    return {"thumbnail": "cover.png"}


@workflow_task
def checksum(prepared, marker=""):
    """Pretend to checksum the files."""
    time.sleep(0.2)
    return {"md5": "0" * 32}


@workflow_task
def publish(results, marker=""):
    """Publish with the three results."""
    time.sleep(0.2)
    return {"published": True, "parts": len(results)}


@workflow_task
def wait(seconds=120):
    """Sleep ``seconds`` in small steps (a task to stop)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.2)
    return {"waited": seconds}


@workflow_task
def after_wait(waited, seconds=120):
    """The step after the wait."""
    return {"done": True}


@workflow_task
def split():
    """First task of the wide workflow."""
    return {"items": WIDE_ITEMS}


@workflow_task
def item(split_result, index=0):
    """One of the wide workflow's parallel items."""
    return {"index": index}


@workflow_task
def merge(results):
    """Last task of the wide workflow."""
    return {"merged": len(results)}


WIDE_ITEMS = 198


class Pipeline(Workflow):
    """A chain with a group: prepare → (convert, thumbnail, checksum) → publish."""

    title = "Submission pipeline (E2E)"
    workflow = chain(
        prepare.s(), group(convert.s(), thumbnail.s(), checksum.s()), publish.s()
    )
    params_schema = {
        "type": "object",
        "properties": {"marker": {"type": "string"}},
        "additionalProperties": False,
    }
    default_params = {"marker": ""}


class Slow(Workflow):
    """A long wait, then one more step."""

    title = "Slow job (E2E)"
    workflow = chain(wait.s(), after_wait.s())
    params_schema = {
        "type": "object",
        "properties": {"seconds": {"type": "integer", "minimum": 0}},
        "additionalProperties": False,
    }
    default_params = {"seconds": 120}


class Wide(Workflow):
    """200 tasks: split → 198 items → merge."""

    title = "Wide fan-out (200 tasks)"
    workflow = chain(
        split.s(), group(item.s(index=i) for i in range(WIDE_ITEMS)), merge.s()
    )


DEFINITIONS = {
    "e2e-pipeline": {"workflow_class": f"{__name__}:Pipeline"},
    "e2e-slow": {"workflow_class": f"{__name__}:Slow"},
    "e2e-wide": {"workflow_class": f"{__name__}:Wide"},
}
"""``WORKFLOWS_DEFINITIONS`` of the browser tests."""

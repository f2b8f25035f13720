# SPDX-License-Identifier: MIT
"""Small workflow tasks used by the tests."""

from invenio_workflow_records import workflow_task


@workflow_task
def extract(file_id, dpi=300):
    """Pretend to extract the pages of a file."""
    return {"file_id": file_id, "dpi": dpi, "pages": 3}


@workflow_task
def pages(info, factor=1):
    """The number of pages of an extraction, times ``factor``."""
    return info["pages"] * factor


@workflow_task(bind=True)
def whoami(self, *args, **kwargs):
    """What a bound task sees of its run."""
    return {
        "workflow_id": self.workflow_id,
        "task_record_id": self.task_record_id,
        "params": self.params,
        "kwargs": kwargs,
    }


@workflow_task
def too_big(*args):
    """Return more than the result size limit."""
    return "x" * 100000


@workflow_task
def add(x, y=1):
    """Add two numbers."""
    return x + y


@workflow_task
def collect(results):
    """Return the results it received, as a list."""
    return list(results)


@workflow_task
def fail(*args, message="boom", **kwargs):
    """Always fail."""
    raise ValueError(message)


@workflow_task(bind=True)
def report_progress(self, steps=3):
    """Report progress at every step, faster than the throttle allows."""
    for step in range(1, steps + 1):
        self.update_state(meta={"current": step, "total": steps, "message": "page"})
    return steps

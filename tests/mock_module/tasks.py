# SPDX-License-Identifier: MIT
"""Small workflow tasks used by the tests."""

from invenio_workflow_records import workflow_task


@workflow_task
def extract(file_id, dpi=300):
    """Pretend to extract the pages of a file."""
    return {"file_id": file_id, "dpi": dpi, "pages": 3}


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

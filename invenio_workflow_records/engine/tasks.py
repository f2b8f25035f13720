# SPDX-License-Identifier: MIT
"""Celery tasks of the engine itself (registered through ``invenio_celery.tasks``)."""

from celery import shared_task


@shared_task(ignore_result=True)
def drain_index():
    """Index the workflow and task rows changed since they were last indexed."""
    from ..indexing import drain

    drain()

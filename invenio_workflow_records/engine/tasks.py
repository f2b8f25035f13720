# SPDX-License-Identifier: MIT
"""Celery tasks of the engine itself (registered through ``invenio_celery.tasks``)."""

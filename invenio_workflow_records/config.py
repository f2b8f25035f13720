# SPDX-License-Identifier: MIT
"""Configuration of invenio-workflow-records.

Every setting starts with ``WORKFLOWS_``.
"""

WORKFLOWS_DEFINITIONS = {}
"""Registered workflow definitions, by name.

Each value has either ``workflow_class`` (a subclass of
``invenio_workflow_records.Workflow``) or ``workflow_definition`` (a Celery
canvas), as an object or an import string, and optionally ``title``,
``params_schema`` (JSON schema of the start params), ``default_params`` and
``permission_factory``. Definitions can also come from the entry point group
``invenio_workflow_records.definitions``; this setting wins on a name clash.
"""

WORKFLOWS_PERMISSION_FACTORY = None
"""Default ``permission_factory(workflow, action)`` for definitions without one.

It returns an Invenio permission that decides, for the workflows of that
definition, each action (``create``, ``read``, ``start``, ...). ``workflow``
is ``None`` for ``create`` and ``search``. When unset, the
``WORKFLOWS_PERMISSION_POLICY`` decides.
"""

WORKFLOWS_PERMISSION_POLICY = (
    "invenio_workflow_records.services.permissions:WorkflowPermissionPolicy"
)
"""Permission policy of the workflows and tasks services (class or import string)."""

WORKFLOWS_RESULT_MAX_BYTES = 64 * 1024
"""Largest JSON result a task may store on its record."""

WORKFLOWS_MAX_REQUEST_BYTES = 1024 * 1024
"""Largest request body the REST API accepts (413 above)."""

WORKFLOWS_PROGRESS_INTERVAL = 2.0
"""Seconds between two progress writes of one task (``update_state``)."""

WORKFLOWS_SQLITE_LOCKING = True
"""On SQLite only: start every transaction with ``BEGIN IMMEDIATE``.

Needed when a worker and the web process share an SQLite file (the embedded
setup and the tests); see :mod:`invenio_workflow_records.sqlite`.
"""

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

WORKFLOWS_INDEX_DELAY = 0.2
"""Seconds between a commit and the drain of the index queue it asks for.

Every write flags its rows for indexing; a drain bulk-indexes the flagged
rows. A process asks for at most one drain per window, so a burst of events
becomes one bulk request; with OpenSearch's 1 s refresh, a transition is
searchable about 1.2 s after its commit.
"""

WORKFLOWS_LEASE_SECONDS = 60
"""Lease of a running attempt: a worker that stops renewing it is presumed lost.

The worker renews it every third of this time (one UPDATE, no revision), so
a killed worker's task is noticed within about 1.5 times this value.
"""

WORKFLOWS_DISPATCH_TIMEOUT = 600
"""Seconds a sent message may wait for a worker before the recovery pass resends it.

A healthy broker delivers in milliseconds, but a backlog can hold messages
for minutes; a resend is harmless (fenced) but doubles the message.
"""

WORKFLOWS_RECOVERY_INTERVAL = 30
"""Seconds between two recovery passes of a worker (0 or None: no timer)."""

WORKFLOWS_WORKER_LOST_RETRIES = 1
"""New attempts the recovery pass makes for a task whose worker was lost.

Past this number the task fails with ``WorkerLost``. A task may set its own
number with the Celery task option ``worker_lost_retries``.
"""

WORKFLOWS_DB_RETRY_SECONDS = 60
"""How long a worker retries recording a transition while the database is unreachable."""

WORKFLOWS_DB_PRE_PING = True
"""Check pooled database connections before use, as ``pool_pre_ping`` does.

Only connections idle for ``WORKFLOWS_DB_PING_AFTER`` seconds or more are
pinged: a dead one (database restart, failover) is replaced.
"""

WORKFLOWS_DB_PING_AFTER = 1.0
"""Seconds of idleness after which a pooled connection is pinged before use."""

WORKFLOWS_MAX_RESENDS = 3
"""How often the recovery pass resends a message that was sent but never started.

Past this number the task fails as ``Undeliverable``: no worker knows the
task, or none can decode its message (e.g. a serializer mismatch). Messages
the broker refused are resent without limit.
"""

WORKFLOWS_ADMINISTRATION_ENABLED = True
"""Show the admin pages (workflows, workflow tasks, the workflow dashboard).

They need the ``ui`` extra (invenio-administration) and built assets.
"""

WORKFLOWS_ADMIN_SEARCH = None
"""Facets and sorts of the workflows admin list, e.g. ``{"facets": ["status"],
"sort": ["newest", "name"]}``; ``None``: all of the service's."""

WORKFLOWS_ADMIN_TASKS_SEARCH = None
"""Facets and sorts of the workflow tasks admin list (as ``WORKFLOWS_ADMIN_SEARCH``)."""

WORKFLOWS_ADMIN_POLL_INTERVAL = 3000
"""Milliseconds between two refreshes of a running workflow's dashboard."""

WORKFLOWS_ADMIN_TASKS_PAGE_SIZE = 100
"""Tasks per request when the dashboard loads a workflow's tasks."""

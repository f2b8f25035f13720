# SPDX-License-Identifier: MIT
"""The permission policy of the demo. DEMO ONLY: never use it in production.

Anybody, anonymous visitors included, may read and search every workflow and
task, so that a newcomer can ``curl`` the REST API of the demo without
logging in. Every other action (create, start, stop, restart, resume, task
actions) stays with administrators and system processes, as in the default
policy.
"""

from invenio_records_permissions.generators import AnyUser, SystemProcess

from ..services.permissions import WorkflowPermissionPolicy


class DemoPermissionPolicy(WorkflowPermissionPolicy):
    """DEMO ONLY: anybody may read and search; only admins and the system act."""

    anybody = [AnyUser(), SystemProcess()]

    can_search = anybody
    can_read = anybody
    can_read_task = anybody
    can_search_tasks = anybody

# SPDX-License-Identifier: MIT
"""Default permission policy of workflows and tasks.

Administrators (``superuser-access`` or the module's ``workflows-admin``
action) and system processes may do everything; the owner of a workflow may
read it and its tasks; nobody else sees it. A definition's
``permission_factory`` (or ``WORKFLOWS_PERMISSION_FACTORY``) replaces this
policy for the workflows of that definition, see the services.
"""

from invenio_access import action_factory
from invenio_records_permissions.generators import AdminAction, SystemProcess
from invenio_records_permissions.policies import BasePermissionPolicy

from .generators import AuthenticatedSearcher, DefinitionSearchGrant, WorkflowOwner

workflows_admin_action = action_factory("workflows-admin")
"""Grant this action to a role to make its members workflow administrators."""


class WorkflowPermissionPolicy(BasePermissionPolicy):
    """Who may do what with workflows and their tasks."""

    administrators = [AdminAction(workflows_admin_action), SystemProcess()]
    readers = administrators + [WorkflowOwner()]

    can_create = administrators
    can_search = readers + [AuthenticatedSearcher(), DefinitionSearchGrant()]
    can_read = readers
    can_start = administrators
    can_stop = administrators
    can_restart = administrators
    can_resume = administrators

    can_read_task = readers
    can_search_tasks = readers + [
        AuthenticatedSearcher(),
        DefinitionSearchGrant(name_field="workflow_name"),
    ]
    can_stop_task = administrators
    can_restart_task = administrators

# SPDX-License-Identifier: MIT
"""Admin page of the tasks of all workflows."""

from invenio_administration.views.base import AdminResourceListView
from invenio_i18n import lazy_gettext as _

from ..services.tasks.config import TaskSearchOptions
from .search import ServiceSearchConfig
from .workflows import WorkflowsAdminMixin


class TasksListView(WorkflowsAdminMixin, ServiceSearchConfig, AdminResourceListView):
    """``/administration/workflow-tasks``: tasks across workflows.

    Facets status, task name and workflow (definition); each row links to
    its workflow's dashboard (``/administration/workflows/<workflow_id>``).
    """

    name = "workflow-tasks"
    url = "/workflow-tasks"
    api_endpoint = "/tasks"
    resource_config = "tasks_resource"
    resource_name = "short_name"
    title = _("Workflow tasks")
    menu_label = _("Workflow tasks")
    category = "System"
    icon = "tasks"
    order = 11
    template = "invenio_workflow_records/administration/tasks-search.html"

    display_search = True
    # The detail page is the workflow's: the row component links to it.
    display_read = False

    search_options = TaskSearchOptions
    search_config_name = "WORKFLOWS_ADMIN_TASKS_SEARCH"
    default_facets = ["status", "short_name", "workflow"]
    default_sorts = ["newest", "oldest", "updated", "duration", "bestmatch"]

    item_field_list = {
        "short_name": {"text": _("Task"), "order": 1, "width": 3},
        "workflow_name": {"text": _("Workflow"), "order": 2, "width": 3},
        "status": {"text": _("Status"), "order": 3, "width": 2},
        "attempt": {"text": _("Attempt"), "order": 4, "width": 1},
        "worker": {"text": _("Worker"), "order": 5, "width": 2},
        "started_at": {"text": _("Started"), "order": 6, "width": 2},
        "duration": {"text": _("Duration"), "order": 7, "width": 2},
    }

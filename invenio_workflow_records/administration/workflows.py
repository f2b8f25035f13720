# SPDX-License-Identifier: MIT
"""Admin pages of workflows: the searchable list and the detail dashboard."""

from flask import current_app
from invenio_administration.views.base import (
    AdminResourceDetailView,
    AdminResourceListView,
)
from invenio_i18n import lazy_gettext as _

from ..services.workflows.config import WorkflowSearchOptions
from .search import ServiceSearchConfig

EXTENSION = "invenio-workflow-records"


class WorkflowsAdminMixin:
    """What the workflow admin pages share."""

    extension_name = EXTENSION
    resource_config = "workflows_resource"
    api_endpoint = "/workflows"
    pid_path = "id"
    resource_name = "title"

    display_create = False
    display_edit = False
    display_delete = False

    @staticmethod
    def disabled():
        """Hide the pages when ``WORKFLOWS_ADMINISTRATION_ENABLED`` is false."""
        return not current_app.config.get("WORKFLOWS_ADMINISTRATION_ENABLED", True)


class WorkflowsListView(
    WorkflowsAdminMixin, ServiceSearchConfig, AdminResourceListView
):
    """``/administration/workflows``: search, facets, sorts, one row a workflow.

    The rows are drawn by ``WorkflowResultItem`` (webpack entry
    ``invenio-workflow-records-workflows-search``): title/definition,
    subject, status label, task counts and progress, run, created, duration.
    """

    name = "workflows"
    url = "/workflows"
    title = _("Workflows")
    menu_label = _("Workflows")
    category = "System"
    icon = "sitemap"
    order = 10
    template = "invenio_workflow_records/administration/workflows-search.html"

    display_search = True
    display_read = True

    search_options = WorkflowSearchOptions
    search_config_name = "WORKFLOWS_ADMIN_SEARCH"
    default_facets = ["status", "name"]
    default_sorts = ["newest", "oldest", "updated", "name", "duration", "bestmatch"]

    # Columns, in order; the custom row component relies on these keys.
    item_field_list = {
        "title": {"text": _("Workflow"), "order": 1, "width": 4},
        "subject": {"text": _("Subject"), "order": 2, "width": 2},
        "status": {"text": _("Status"), "order": 3, "width": 2},
        "task_counts": {"text": _("Tasks"), "order": 4, "width": 3},
        "run": {"text": _("Run"), "order": 5, "width": 1},
        "created": {"text": _("Created"), "order": 6, "width": 2},
        "duration": {"text": _("Duration"), "order": 7, "width": 2},
    }


class WorkflowDetailView(WorkflowsAdminMixin, AdminResourceDetailView):
    """``/administration/workflows/<id>``: the React workflow dashboard.

    The page only passes endpoints; the React app (webpack entry
    ``invenio-workflow-records-details``) reads the workflow, its tasks and
    revisions from the REST API, shows the actions the item's ``links``
    offer, and polls while the workflow runs.
    """

    name = "workflow-details"
    url = "/workflows/<pid_value>"
    title = _("Workflow")
    list_view_name = "workflows"
    template = "invenio_workflow_records/administration/workflow-details.html"

    item_field_list = {
        "title": {"text": _("Workflow"), "order": 1},
        "status": {"text": _("Status"), "order": 2},
    }

    def get_context(self, pid_value=None):
        """The admin details context plus the dashboard's own settings."""
        ctx = super().get_context(pid_value=pid_value)
        api = current_app.config["SITE_API_URL"].rstrip("/")
        ctx["dashboard_config"] = {
            "workflowId": pid_value,
            "workflowEndpoint": f"{api}/workflows/{pid_value}",
            "tasksSearchEndpoint": f"{api}/tasks",
            "listUIEndpoint": ctx["list_ui_endpoint"],
            "pollInterval": current_app.config.get(
                "WORKFLOWS_ADMIN_POLL_INTERVAL", 3000
            ),
            "tasksPageSize": current_app.config.get(
                "WORKFLOWS_ADMIN_TASKS_PAGE_SIZE", 100
            ),
        }
        return ctx

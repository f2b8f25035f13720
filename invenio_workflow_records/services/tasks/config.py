# SPDX-License-Identifier: MIT
"""Configuration of the tasks service."""

from invenio_i18n import lazy_gettext as _
from invenio_indexer.api import RecordIndexer
from invenio_records_resources.services import (
    EndpointLink,
    RecordServiceConfig,
    SearchOptions,
)
from invenio_records_resources.services.base.config import ConfiguratorMixin, FromConfig
from invenio_records_resources.services.records.facets import TermsFacet
from invenio_records_resources.services.records.links import pagination_endpoint_links
from invenio_records_resources.services.records.params import (
    FacetsParam,
    PaginationParam,
    QueryStrParam,
    SortParam,
)

from ...engine.status import TASK_STATUSES
from ...records import TaskRecord
from ..links import task_action_links
from ..params import DateRangeParam, WorkflowIdParam
from ..queryparser import StrictQueryParser
from .schema import TaskSchema


class TaskSearchOptions(SearchOptions):
    """Search options of ``GET /tasks``."""

    sort_default = "newest"
    sort_default_no_query = "newest"
    sort_options = {
        "newest": dict(title=_("Newest"), fields=["-created", "position"]),
        "oldest": dict(title=_("Oldest"), fields=["created", "position"]),
        "updated": dict(title=_("Recently updated"), fields=["-updated"]),
        "duration": dict(title=_("Longest"), fields=["-duration", "-created"]),
        "bestmatch": dict(title=_("Best match"), fields=["_score", "-created"]),
    }
    facets = {
        "status": TermsFacet(
            field="status",
            label=_("Status"),
            value_labels={s: s for s in TASK_STATUSES},
        ),
        "name": TermsFacet(field="name", label=_("Task")),
        "short_name": TermsFacet(field="short_name", label=_("Task name")),
        "workflow": TermsFacet(field="workflow_name", label=_("Workflow")),
    }
    query_parser_cls = StrictQueryParser
    params_interpreters_cls = [
        QueryStrParam,
        PaginationParam,
        SortParam,
        WorkflowIdParam,
        DateRangeParam,
        FacetsParam,
    ]


def _task_vars(record, vars):
    vars["id"] = str(record["workflow_id"])
    vars["task_id"] = str(record.id)


class TasksServiceConfig(RecordServiceConfig, ConfiguratorMixin):
    """Tasks service configuration."""

    service_id = "workflow-tasks"
    record_cls = TaskRecord
    indexer_cls = RecordIndexer
    indexer_queue_name = "workflow-tasks"
    schema = TaskSchema
    permission_policy_cls = FromConfig(
        "WORKFLOWS_PERMISSION_POLICY", import_string=True
    )
    search = TaskSearchOptions
    components = []

    links_item = {
        "self": EndpointLink(
            "workflow_tasks.read", vars=_task_vars, params=["id", "task_id"]
        ),
        "workflow": EndpointLink("workflows.read", vars=_task_vars, params=["id"]),
        "revisions": EndpointLink(
            "workflow_tasks.read_revisions",
            vars=_task_vars,
            params=["id", "task_id"],
        ),
        **task_action_links(),
    }
    links_search = pagination_endpoint_links("workflow_tasks.search")

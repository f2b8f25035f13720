# SPDX-License-Identifier: MIT
"""Configuration of the workflows service."""

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

from ...engine.status import WORKFLOW_STATUSES
from ...records import WorkflowRecord
from ..links import workflow_action_links
from ..params import DateRangeParam, SubjectParam
from ..queryparser import StrictQueryParser
from ..results import WorkflowItem
from .schema import WorkflowSchema


class WorkflowSearchOptions(SearchOptions):
    """Search options of ``GET /workflows``."""

    sort_default = "newest"
    sort_default_no_query = "newest"
    sort_options = {
        "newest": dict(title=_("Newest"), fields=["-created"]),
        "oldest": dict(title=_("Oldest"), fields=["created"]),
        "updated": dict(title=_("Recently updated"), fields=["-updated"]),
        "name": dict(title=_("Name"), fields=["name", "-created"]),
        "duration": dict(title=_("Longest"), fields=["-duration", "-created"]),
        "bestmatch": dict(title=_("Best match"), fields=["_score", "-created"]),
    }
    facets = {
        "status": TermsFacet(
            field="status",
            label=_("Status"),
            value_labels={s: s for s in WORKFLOW_STATUSES},
        ),
        "name": TermsFacet(field="name", label=_("Workflow")),
    }
    query_parser_cls = StrictQueryParser
    params_interpreters_cls = [
        QueryStrParam,
        PaginationParam,
        SortParam,
        SubjectParam,
        DateRangeParam,
        FacetsParam,
    ]


def _workflow_vars(record, vars):
    vars["id"] = str(record.id)


class WorkflowsServiceConfig(RecordServiceConfig, ConfiguratorMixin):
    """Workflows service configuration."""

    service_id = "workflows"
    record_cls = WorkflowRecord
    indexer_cls = RecordIndexer
    indexer_queue_name = "workflows"
    schema = WorkflowSchema
    result_item_cls = WorkflowItem
    permission_policy_cls = FromConfig(
        "WORKFLOWS_PERMISSION_POLICY", import_string=True
    )
    search = WorkflowSearchOptions
    components = []

    links_item = {
        "self": EndpointLink("workflows.read", vars=_workflow_vars, params=["id"]),
        "tasks": EndpointLink(
            "workflow_tasks.list", vars=_workflow_vars, params=["id"]
        ),
        "revisions": EndpointLink(
            "workflows.read_revisions", vars=_workflow_vars, params=["id"]
        ),
        **workflow_action_links(),
    }
    links_search = pagination_endpoint_links("workflows.search")

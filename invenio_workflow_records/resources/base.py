# SPDX-License-Identifier: MIT
"""Request parsing shared by the workflow resources."""

import marshmallow as ma
from flask_resources import (
    MultiDictSchema,
    Resource,
    from_conf,
    request_body_parser,
    request_parser,
)
from invenio_records_resources.resources.records.args import SearchRequestArgsSchema

from .errors import WorkflowErrorHandlersMixin, limit_request_body
from .parsers import StrictBodyParsersFromConf

request_data = request_body_parser(
    # The configured parsers, with JSON decoded strictly (400, never 500).
    parsers=StrictBodyParsersFromConf("request_body_parsers"),
    default_content_type=from_conf("default_content_type"),
)
request_view_args = request_parser(from_conf("request_view_args"), location="view_args")
request_search_args = request_parser(from_conf("request_search_args"), location="args")
request_page_args = request_parser(from_conf("request_page_args"), location="args")
request_task_list_args = request_parser(
    from_conf("request_task_list_args"), location="args"
)


class PageArgsSchema(MultiDictSchema):
    """``page`` and ``size`` of a list that is not a search (revisions)."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    size = ma.fields.Integer(
        load_default=25, validate=ma.validate.Range(min=1, max=1000)
    )


class TaskListArgsSchema(PageArgsSchema):
    """``page`` and ``size`` of a workflow's task list (100 tasks a page)."""

    size = ma.fields.Integer(
        load_default=100, validate=ma.validate.Range(min=1, max=1000)
    )


class BoundedSearchArgsSchema(SearchRequestArgsSchema):
    """Search arguments whose page size is capped (400 above the cap)."""

    max_page_size = 1000


class WorkflowResourceBase(WorkflowErrorHandlersMixin, Resource):
    """A resource bound to a service, refusing oversized bodies."""

    def __init__(self, config, service):
        """Resource for ``service``."""
        super().__init__(config)
        self.service = service

    def create_blueprint(self, **options):
        """The blueprint, with the request size limit applied to every route."""
        blueprint = super().create_blueprint(**options)
        blueprint.before_request(limit_request_body("WORKFLOWS_MAX_REQUEST_BYTES"))
        return blueprint

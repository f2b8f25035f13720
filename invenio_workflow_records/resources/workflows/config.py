# SPDX-License-Identifier: MIT
"""Configuration of the workflows REST resource."""

import marshmallow as ma
from flask_resources import (
    JSONDeserializer,
    JSONSerializer,
    RequestBodyParser,
    ResourceConfig,
    ResponseHandler,
)

from ..args import DateFilterArgs
from ..base import BoundedSearchArgsSchema, PageArgsSchema


class WorkflowSearchArgsSchema(BoundedSearchArgsSchema, DateFilterArgs):
    """Query string of ``GET /workflows``."""

    subject = ma.fields.String()


class WorkflowsResourceConfig(ResourceConfig):
    """Routes and (de)serialization of ``/workflows``."""

    blueprint_name = "workflows"
    url_prefix = "/workflows"
    routes = {
        "list": "",
        "definitions": "/definitions",
        "item": "/<id>",
        "revisions": "/<id>/revisions",
        "action": "/<id>/actions/<action>",
    }

    request_view_args = {"id": ma.fields.String(), "action": ma.fields.String()}
    request_search_args = WorkflowSearchArgsSchema
    request_page_args = PageArgsSchema
    request_body_parsers = {"application/json": RequestBodyParser(JSONDeserializer())}
    default_content_type = "application/json"
    response_handlers = {"application/json": ResponseHandler(JSONSerializer())}
    default_accept_mimetype = "application/json"

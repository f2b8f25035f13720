# SPDX-License-Identifier: MIT
"""Configuration of the tasks REST resource."""

import marshmallow as ma
from flask_resources import (
    JSONDeserializer,
    JSONSerializer,
    RequestBodyParser,
    ResourceConfig,
    ResponseHandler,
)

from ..args import DateFilterArgs
from ..base import BoundedSearchArgsSchema, PageArgsSchema, TaskListArgsSchema


class TaskSearchArgsSchema(BoundedSearchArgsSchema, DateFilterArgs):
    """Query string of ``GET /tasks``."""

    workflow_id = ma.fields.List(ma.fields.String())


class TasksResourceConfig(ResourceConfig):
    """Routes and (de)serialization of a workflow's tasks and ``/tasks``."""

    blueprint_name = "workflow_tasks"
    url_prefix = ""
    routes = {
        "list": "/workflows/<id>/tasks",
        "item": "/workflows/<id>/tasks/<task_id>",
        "revisions": "/workflows/<id>/tasks/<task_id>/revisions",
        "action": "/workflows/<id>/tasks/<task_id>/actions/<action>",
        "search": "/tasks",
    }

    request_view_args = {
        "id": ma.fields.String(),
        "task_id": ma.fields.String(),
        "action": ma.fields.String(),
    }
    request_search_args = TaskSearchArgsSchema
    request_page_args = PageArgsSchema
    request_task_list_args = TaskListArgsSchema
    request_body_parsers = {"application/json": RequestBodyParser(JSONDeserializer())}
    default_content_type = "application/json"
    response_handlers = {"application/json": ResponseHandler(JSONSerializer())}
    default_accept_mimetype = "application/json"

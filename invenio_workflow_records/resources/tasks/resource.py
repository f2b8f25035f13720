# SPDX-License-Identifier: MIT
"""The REST resource of workflow tasks."""

from flask import g
from flask_resources import resource_requestctx, response_handler, route
from invenio_records_resources.resources.records.utils import search_preference
from werkzeug.exceptions import NotFound

from ..base import (
    WorkflowResourceBase,
    request_data,
    request_page_args,
    request_search_args,
    request_task_list_args,
    request_view_args,
)
from ..links import page_links


class TasksResource(WorkflowResourceBase):
    """Read, list and search the tasks of workflows."""

    def create_url_rules(self):
        """The task routes (docs/design.md, section 5)."""
        routes = self.config.routes
        return [
            route("GET", routes["list"], self.list),
            route("GET", routes["item"], self.read),
            route("GET", routes["revisions"], self.read_revisions),
            route("GET", routes["search"], self.search),
            route("PUT", routes["item"], self.restart),
            route("DELETE", routes["item"], self.stop),
            route("POST", routes["action"], self.action),
        ]

    @request_view_args
    @request_task_list_args
    @response_handler(many=True)
    def list(self):
        """The tasks of a workflow, in plan order, a page at a time."""
        page = resource_requestctx.args["page"]
        size = resource_requestctx.args["size"]
        result = self.service.list(
            g.identity, resource_requestctx.view_args["id"], page=page, size=size
        )
        data = result.to_dict()
        data["links"] = page_links(page, size, result.total)
        return data, 200

    @request_view_args
    @response_handler()
    def read(self):
        """One task."""
        view_args = resource_requestctx.view_args
        item = self.service.read(g.identity, view_args["id"], view_args["task_id"])
        return item.to_dict(), 200

    @request_view_args
    @request_page_args
    @response_handler(many=True)
    def read_revisions(self):
        """The task's revisions, newest first."""
        view_args = resource_requestctx.view_args
        result = self.service.read_revisions(
            g.identity,
            view_args["id"],
            view_args["task_id"],
            page=resource_requestctx.args["page"],
            size=resource_requestctx.args["size"],
        )
        data = result.to_dict()
        data["links"] = page_links(data["page"], data["size"], data["hits"]["total"])
        return data, 200

    @request_search_args
    @response_handler(many=True)
    def search(self):
        """Search the tasks of all workflows."""
        result = self.service.search(
            g.identity,
            params=resource_requestctx.args,
            search_preference=search_preference(),
        )
        return result.to_dict(), 200

    def _run(self, action):
        view_args = resource_requestctx.view_args
        data = resource_requestctx.data or {}
        if action == "stop":
            item = self.service.stop(g.identity, view_args["id"], view_args["task_id"])
            return item.to_dict(), 202
        result = self.service.restart(
            g.identity, view_args["id"], view_args["task_id"], data
        )
        return result, 200 if result["dry_run"] else 202

    @request_view_args
    @request_data
    @response_handler()
    def restart(self):
        """Restart a task (202), or say what would be reset (``dry_run``, 200)."""
        return self._run("restart")

    @request_view_args
    @request_data
    @response_handler()
    def stop(self):
        """Stop a task."""
        return self._run("stop")

    @request_view_args
    @request_data
    @response_handler()
    def action(self):
        """``/actions/{stop,restart}``."""
        action = resource_requestctx.view_args["action"]
        if action not in ("stop", "restart"):
            raise NotFound(f"Unknown action '{action}'.")
        return self._run(action)

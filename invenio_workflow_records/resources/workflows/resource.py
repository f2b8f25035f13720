# SPDX-License-Identifier: MIT
"""The ``/workflows`` REST resource."""

from flask import g
from flask_resources import resource_requestctx, response_handler, route
from invenio_records_resources.resources.records.utils import search_preference
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound

from ..base import (
    WorkflowResourceBase,
    request_data,
    request_page_args,
    request_search_args,
    request_view_args,
)
from ..links import page_links


class WorkflowsResource(WorkflowResourceBase):
    """Create, read and search workflow runs."""

    def create_url_rules(self):
        """The workflow routes (docs/design.md, section 5)."""
        routes = self.config.routes
        return [
            route("GET", routes["list"], self.search),
            route("GET", routes["definitions"], self.definitions),
            route("POST", routes["list"], self.create),
            route("GET", routes["item"], self.read),
            route("GET", routes["revisions"], self.read_revisions),
            route("POST", routes["item"], self.start),
            route("PUT", routes["item"], self.restart),
            route("DELETE", routes["item"], self.stop),
            route("POST", routes["action"], self.action),
        ]

    @request_search_args
    @response_handler(many=True)
    def search(self):
        """Search workflows."""
        result = self.service.search(
            g.identity,
            params=resource_requestctx.args,
            search_preference=search_preference(),
        )
        return result.to_dict(), 200

    @response_handler(many=True)
    def definitions(self):
        """The workflow definitions the caller may create workflows of."""
        return self.service.definitions(g.identity), 200

    @request_data
    @response_handler()
    def create(self):
        """Create a workflow: 201, or 200 for an idempotent replay."""
        item = self.service.create(g.identity, resource_requestctx.data or {})
        return item.to_dict(), 201 if item.created else 200

    @request_view_args
    @response_handler()
    def read(self):
        """Read a workflow."""
        item = self.service.read(g.identity, resource_requestctx.view_args["id"])
        return item.to_dict(), 200

    @request_view_args
    @request_page_args
    @response_handler(many=True)
    def read_revisions(self):
        """The workflow's revisions, newest first."""
        args = resource_requestctx.args
        result = self.service.read_revisions(
            g.identity,
            resource_requestctx.view_args["id"],
            page=args["page"],
            size=args["size"],
        )
        data = result.to_dict()
        data["links"] = page_links(data["page"], data["size"], data["hits"]["total"])
        return data, 200

    def _run(self, action):
        view_args = resource_requestctx.view_args
        data = resource_requestctx.data or {}
        if action == "stop":
            if data:
                raise ValidationError({"_schema": ["stop takes no body."]})
            item = self.service.stop(g.identity, view_args["id"])
        else:
            item = getattr(self.service, action)(g.identity, view_args["id"], data)
        return item.to_dict(), 202

    @request_view_args
    @request_data
    @response_handler()
    def start(self):
        """Start a created workflow."""
        return self._run("start")

    @request_view_args
    @request_data
    @response_handler()
    def restart(self):
        """Restart the whole workflow."""
        return self._run("restart")

    @request_view_args
    @request_data
    @response_handler()
    def stop(self):
        """Stop the workflow."""
        return self._run("stop")

    @request_view_args
    @request_data
    @response_handler()
    def action(self):
        """``/actions/{start,stop,restart,resume}``."""
        action = resource_requestctx.view_args["action"]
        if action not in ("start", "stop", "restart", "resume"):
            raise NotFound(f"Unknown action '{action}'.")
        return self._run(action)

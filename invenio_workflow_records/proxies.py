# SPDX-License-Identifier: MIT
"""Proxies to the extension's services and registry."""

from flask import current_app
from werkzeug.local import LocalProxy

current_workflows = LocalProxy(
    lambda: current_app.extensions["invenio-workflow-records"]
)
"""The extension."""

current_definitions = LocalProxy(lambda: current_workflows.definitions)
"""The registry of workflow definitions."""

current_workflows_service = LocalProxy(lambda: current_workflows.workflows_service)
"""The workflows service."""

current_tasks_service = LocalProxy(lambda: current_workflows.tasks_service)
"""The tasks service."""

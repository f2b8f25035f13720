# SPDX-License-Identifier: MIT
"""Blueprints of the REST API."""


def create_workflows_bp(app):
    """Blueprint of ``/workflows``."""
    return app.extensions["invenio-workflow-records"].workflows_resource.as_blueprint()


def create_tasks_bp(app):
    """Blueprint of a workflow's tasks and ``/tasks``."""
    return app.extensions["invenio-workflow-records"].tasks_resource.as_blueprint()

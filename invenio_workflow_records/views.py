# SPDX-License-Identifier: MIT
"""Blueprints: the REST API's, and the UI's (templates only)."""

import os

from flask import Blueprint


def create_workflows_bp(app):
    """Blueprint of ``/workflows``."""
    return app.extensions["invenio-workflow-records"].workflows_resource.as_blueprint()


def create_tasks_bp(app):
    """Blueprint of a workflow's tasks and ``/tasks``."""
    return app.extensions["invenio-workflow-records"].tasks_resource.as_blueprint()


def create_ui_blueprint(app):
    """The UI blueprint; it only makes the module's templates available.

    The pages themselves are invenio-administration views (see
    :mod:`invenio_workflow_records.administration`).
    """
    return Blueprint(
        "invenio_workflow_records",
        __name__,
        template_folder=os.path.join(os.path.dirname(__file__), "templates"),
    )

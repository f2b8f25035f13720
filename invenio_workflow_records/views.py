# SPDX-License-Identifier: MIT
"""Blueprints: the REST API's, and the UI's (templates only)."""

import os

from flask import Blueprint, current_app, url_for


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
    blueprint = Blueprint(
        "invenio_workflow_records",
        __name__,
        template_folder=os.path.join(os.path.dirname(__file__), "templates"),
    )
    blueprint.add_app_template_global(workflows_dashboard_url)
    return blueprint


def workflows_dashboard_url():
    """Base URL of the workflow dashboards for the current user, else ``""``.

    The subject widget links each workflow to ``<this>/<id>``; a user who may
    not open the administration panel (or an instance without it) gets no
    links rather than links to a 403 page.
    """
    if not current_app.config.get("WORKFLOWS_ADMINISTRATION_ENABLED", True):
        return ""
    try:
        from invenio_administration.permissions import administration_permission
    except ImportError:
        return ""
    if not administration_permission.can():
        return ""
    return url_for("administration.workflows")

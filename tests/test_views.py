# SPDX-License-Identifier: MIT
"""The UI blueprint's template global for the subject widget's links."""

import pytest
from flask import g
from flask_principal import ActionNeed, Identity
from invenio_app.factory import create_ui
from invenio_db import db

from invenio_workflow_records.views import workflows_dashboard_url


@pytest.fixture(scope="module")
def ui_app(tmp_path_factory):
    """The UI application, where the admin pages live, on an SQLite file."""
    folder = tmp_path_factory.mktemp("ui")
    app = create_ui(
        SECRET_KEY="test",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'ui.db'}",
        JSONSCHEMAS_HOST="localhost",
        SERVER_NAME="localhost",
        instance_path=str(folder),
    )
    with app.app_context():
        db.create_all()
    return app


def _as(*needs):
    identity = Identity(1)
    identity.provides.update(needs)
    g.identity = identity


def test_dashboard_url_only_for_who_may_open_the_administration(ui_app):
    """Links for administration users; none for others or when the pages are off."""
    with ui_app.test_request_context():
        _as(ActionNeed("administration-access"))
        assert workflows_dashboard_url().endswith("/administration/workflows")
        _as()
        assert workflows_dashboard_url() == ""
        _as(ActionNeed("administration-access"))
        ui_app.config["WORKFLOWS_ADMINISTRATION_ENABLED"] = False
        assert workflows_dashboard_url() == ""

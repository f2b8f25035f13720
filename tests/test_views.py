# SPDX-License-Identifier: MIT
"""The UI blueprint's template global for the subject widget's links."""

from flask import g
from flask_principal import ActionNeed, Identity
from invenio_app.factory import create_ui

from invenio_workflow_records.views import workflows_dashboard_url

create_app = create_ui
"""pytest-invenio builds this module's app with it: the UI, where the admin pages live."""


def _as(*needs):
    identity = Identity(1)
    identity.provides.update(needs)
    g.identity = identity


def test_dashboard_url_only_for_who_may_open_the_administration(app, database):
    """Links for administration users; none for others or when the pages are off."""
    with app.test_request_context():
        _as(ActionNeed("administration-access"))
        assert workflows_dashboard_url().endswith("/administration/workflows")
        _as()
        assert workflows_dashboard_url() == ""
        _as(ActionNeed("administration-access"))
        app.config["WORKFLOWS_ADMINISTRATION_ENABLED"] = False
        try:
            assert workflows_dashboard_url() == ""
        finally:
            app.config["WORKFLOWS_ADMINISTRATION_ENABLED"] = True

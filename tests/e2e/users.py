# SPDX-License-Identifier: MIT
"""The two users of the browser tests."""

from invenio_workflow_records.demo.access import create_ui_user

PASSWORD = "e2e-password"
"""Password of both users."""

ADMIN = "admin@e2e.org"
"""May open the admin pages and act on every workflow."""

READER = "reader@e2e.org"
"""May open the admin pages, but is no workflow administrator."""


def create_users(site):
    """Create both users; ``{email: user id}``."""
    with site.app.app_context():
        return {
            ADMIN: create_ui_user(ADMIN, PASSWORD, workflows_admin=True),
            READER: create_ui_user(READER, PASSWORD, workflows_admin=False),
        }

# SPDX-License-Identifier: MIT
"""Fixtures of the REST tests."""

import pytest
from invenio_access.models import ActionUsers
from invenio_access.permissions import superuser_access


@pytest.fixture()
def admin(app, db, UserFixture):
    """A user granted ``superuser-access``."""
    user = UserFixture(email="admin@example.org", password="admin-pass")
    user.create(app, db)
    db.session.add(ActionUsers.allow(superuser_access, user_id=user.id))
    db.session.commit()
    return user


@pytest.fixture()
def login(client):
    """Log a user fixture in on the test client."""

    def _login(user):
        user.login(client)
        return client

    return _login

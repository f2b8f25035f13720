# SPDX-License-Identifier: MIT
"""Fixtures shared by the whole test suite.

Default run: an SQLite file and one embedded osmem-server per session, with
one copy-on-write clone per test module. ``SQLALCHEMY_DATABASE_URI`` and
``SEARCH_HOSTS`` point the same tests at PostgreSQL and a real OpenSearch.
"""

import os
from urllib.parse import urlparse

import pytest
from flask_principal import Identity, UserNeed
from invenio_access.permissions import any_user, authenticated_user, system_identity
from invenio_app.factory import create_api

from invenio_workflow_records.proxies import (
    current_tasks_service,
    current_workflows_service,
)

pytest_plugins = ("celery.contrib.pytest",)


@pytest.fixture(scope="module")
def create_app(instance_path):
    """The REST API application factory."""
    return create_api


@pytest.fixture(scope="module")
def search_hosts(request):
    """``SEARCH_HOSTS`` if given, else a fresh osmem clone for this module."""
    if "SEARCH_HOSTS" in os.environ:
        import ast

        yield ast.literal_eval(os.environ["SEARCH_HOSTS"])
        return
    server = request.getfixturevalue("osmem_server")
    clone = server.clone()
    url = urlparse(clone.url)
    yield [{"host": url.hostname, "port": url.port}]
    clone.close()


@pytest.fixture(scope="module")
def app_config(app_config):
    """Configuration of the test application."""
    app_config.update(
        JSONSCHEMAS_HOST="localhost",
        RECORDS_REFRESOLVER_CLS="invenio_records.resolver.InvenioRefResolver",
        RECORDS_REFRESOLVER_STORE=(
            "invenio_jsonschemas.proxies.current_refresolver_store"
        ),
        SEARCH_INDEX_PREFIX="test-",
        WORKFLOWS_DEFINITIONS={
            "pdf-plots": {
                "workflow_class": "tests.mock_module.definitions:PdfPlots",
            },
            "sums": {
                "workflow_definition": "tests.mock_module.definitions:sums",
                "title": "Sums",
            },
            "open-sums": {
                "workflow_definition": "tests.mock_module.definitions:open_sums",
                "permission_factory": (
                    "tests.mock_module.definitions:open_permissions"
                ),
                "params_schema": {
                    "type": "object",
                    "properties": {"file_id": {"type": "string"}},
                },
            },
            "first-result-wins": {
                "workflow_class": "tests.mock_module.definitions:FirstResultWins",
            },
            **{
                f"it-{name}": {
                    "workflow_definition": (
                        f"tests.mock_module.integration_definitions:{attr}"
                    ),
                }
                for name, attr in (
                    ("arithmetic", "arithmetic"),
                    ("fan-in", "fan_in"),
                    ("chord", "fan_in_chord"),
                    ("failing", "failing"),
                    ("retried", "retried"),
                    ("slow", "slow"),
                    ("resume", "fails_then_resumes"),
                    ("killed", "killed"),
                )
            },
            "it-params": {
                "workflow_definition": "tests.mock_module.integration_definitions:params",
                "default_params": {"colour": "blue", "size": 1},
            },
            "progress": {
                "workflow_definition": "tests.mock_module.definitions:progress",
            },
            "failing": {
                "workflow_definition": "tests.mock_module.definitions:failing",
            },
            "params-probe": {
                "workflow_definition": "tests.mock_module.definitions:params_probe",
                "default_params": {"colour": "blue", "size": 3},
            },
        },
        WORKFLOWS_MAX_REQUEST_BYTES=64 * 1024,
    )
    return app_config


@pytest.fixture()
def workflows_service(app):
    """The workflows service."""
    return current_workflows_service


@pytest.fixture()
def tasks_service(app):
    """The tasks service."""
    return current_tasks_service


def _user_identity(user):
    identity = Identity(user.id)
    identity.provides.update({UserNeed(user.id), any_user, authenticated_user})
    return identity


@pytest.fixture()
def users(app, db, UserFixture):
    """Two users: the owner of the test workflows and somebody else."""
    owner = UserFixture(email="owner@example.org", password="owner-pass")
    owner.create(app, db)
    other = UserFixture(email="other@example.org", password="other-pass")
    other.create(app, db)
    return {"owner": owner, "other": other}


@pytest.fixture()
def owner_identity(users):
    """Identity of the owning user."""
    return _user_identity(users["owner"].user)


@pytest.fixture()
def other_identity(users):
    """Identity of a user who owns nothing."""
    return _user_identity(users["other"].user)


@pytest.fixture()
def create_workflow(workflows_service, db, search_clear):
    """Create a workflow as the system, on behalf of an owner if given."""

    def _create(name="pdf-plots", params=None, owner=None, **data):
        body = {"name": name, "params": params or {"file_id": "f-1"}, **data}
        owner_value = {"user": str(owner.id)} if owner is not None else None
        return workflows_service.create(system_identity, body, owner=owner_value)

    return _create

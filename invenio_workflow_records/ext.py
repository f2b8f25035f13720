# SPDX-License-Identifier: MIT
"""The Flask extension of invenio-workflow-records."""

from werkzeug.utils import cached_property

from . import config, sqlite
from .definitions import DefinitionRegistry
from .resources import (
    TasksResource,
    TasksResourceConfig,
    WorkflowsResource,
    WorkflowsResourceConfig,
)
from .services import (
    TasksService,
    TasksServiceConfig,
    WorkflowsService,
    WorkflowsServiceConfig,
)


class InvenioWorkflowRecords:
    """Invenio extension: definitions registry, services and REST resources."""

    def __init__(self, app=None):
        """Extension initialization."""
        if app:
            self.init_app(app)

    def init_app(self, app):
        """Flask application initialization."""
        self.app = app
        self.init_config(app)
        self.init_services(app)
        self.init_resources(app)
        app.extensions["invenio-workflow-records"] = self

    def init_config(self, app):
        """Set every ``WORKFLOWS_*`` default the application did not set."""
        for key in dir(config):
            if key.startswith("WORKFLOWS_"):
                app.config.setdefault(key, getattr(config, key))
        uri = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
        if uri.startswith("sqlite") and app.config["WORKFLOWS_SQLITE_LOCKING"]:
            sqlite.enable()

    @cached_property
    def definitions(self):
        """Registry of the workflow definitions, resolved lazily."""
        return DefinitionRegistry(
            self.app.config["WORKFLOWS_DEFINITIONS"],
            default_permission_factory=self.app.config["WORKFLOWS_PERMISSION_FACTORY"],
        )

    def init_services(self, app):
        """Create the workflows and tasks services."""
        self.tasks_service = TasksService(TasksServiceConfig.build(app))
        self.workflows_service = WorkflowsService(
            WorkflowsServiceConfig.build(app), tasks_service=self.tasks_service
        )

    def init_resources(self, app):
        """Create the REST resources."""
        self.workflows_resource = WorkflowsResource(
            WorkflowsResourceConfig, self.workflows_service
        )
        self.tasks_resource = TasksResource(TasksResourceConfig, self.tasks_service)


def _register(app):
    """Register the services and indexers with Invenio's registries."""
    ext = app.extensions["invenio-workflow-records"]
    registry = app.extensions["invenio-records-resources"].registry
    registry.register(ext.workflows_service, service_id="workflows")
    registry.register(ext.tasks_service, service_id="workflow-tasks")
    indexers = app.extensions["invenio-indexer"].registry
    indexers.register(ext.workflows_service.indexer, indexer_id="workflows")
    indexers.register(ext.tasks_service.indexer, indexer_id="workflow-tasks")


def _pre_ping(app):
    """Check pooled connections that sat idle before use (``WORKFLOWS_DB_PRE_PING``).

    A connection that died with a database restart or failover is replaced
    instead of failing the next request or task event. Like SQLAlchemy's
    ``pool_pre_ping``, but a connection used less than
    ``WORKFLOWS_DB_PING_AFTER`` seconds ago is not pinged: a worker running a
    chain checks a connection out twice per task, and a ping each time cost
    as much as the event's own query. Set on the engines Flask-SQLAlchemy
    already made, whatever the order the extensions load in.
    """
    if not app.config["WORKFLOWS_DB_PRE_PING"]:
        return
    from invenio_db import db

    from .engine.transactions import ping_idle_connections

    with app.app_context():
        for engine in db.engines.values():
            ping_idle_connections(engine, app.config["WORKFLOWS_DB_PING_AFTER"])


def finalize_app(app):
    """Finalize the UI application."""
    _register(app)
    _pre_ping(app)


def api_finalize_app(app):
    """Finalize the REST API application."""
    _register(app)
    _pre_ping(app)

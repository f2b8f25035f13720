# SPDX-License-Identifier: MIT
"""A running Invenio site for the browser tests and the dashboard benchmark.

:class:`Site` starts, in a directory of its own: the database (a schema of its
own in the PostgreSQL database of ``SQLALCHEMY_DATABASE_URI``, else an
SQLite file), the search server (``SEARCH_HOSTS``, else an embedded
osmem-server), the broker (``WORKFLOWS_TEST_REDIS_URL``, else an embedded
Valkey), a real Celery worker process, and the Invenio UI with the REST API
under ``/api`` (``invenio_app.factory.create_app``), served by Werkzeug in a
thread of this process. The UI assets come from the cached build of
:mod:`invenio_workflow_records.demo.assets` (built on first use).

Nothing is mocked: logins use invenio-accounts' form, the pages call the
REST API with the session cookie and the CSRF header, and the worker runs
the tasks. The site's own app (:attr:`Site.app`) lets a test read and write
the database directly.
"""

import ast
import os
import shutil
import tempfile
import time
import uuid
from contextlib import ExitStack

import sqlalchemy as sa
from flask import Blueprint, render_template_string

from invenio_workflow_records.demo.app import create_demo_app, demo_config
from invenio_workflow_records.demo.assets import AssetBuild, build_app
from invenio_workflow_records.demo.services import (
    ApiServer,
    Broker,
    Search,
    Worker,
)

from .workflows import DEFINITIONS

HOST_PAGE = """{% extends config.BASE_TEMPLATE %}
{% from "invenio_workflow_records/macros/subject.html" import
   subject_workflows, subject_workflows_js %}
{% block page_body %}
<div class="ui container" id="host-record" data-record-id="{{ record_id }}">
  <h1 class="ui header">Record {{ record_id }}</h1>
  {{ subject_workflows("record", record_id) }}
</div>
{% endblock page_body %}
{% block javascript %}
  {{ super() }}
  {{ subject_workflows_js() }}
{% endblock javascript %}
"""
"""A host module's record page that embeds the subject widget."""


def host_blueprint():
    """``/e2e/records/<id>``: a page as a host module would write it."""
    blueprint = Blueprint("e2e_host", __name__)

    @blueprint.route("/e2e/records/<record_id>")
    def record_page(record_id):
        return render_template_string(HOST_PAGE, record_id=record_id)

    return blueprint


class Site:
    """Database, search, broker, worker and web server of one test session."""

    def __init__(self, directory=None, say=print):
        """A site (not started) in ``directory`` (default: a new temporary one)."""
        self.say = say
        self.directory = directory or tempfile.mkdtemp(prefix="workflows-e2e-")
        self.name = f"e2e{uuid.uuid4().hex[:8]}"
        self.stack = ExitStack()
        self.app = None
        self.url = None
        self.worker = None
        self.config = None

    @property
    def api_url(self):
        """Base URL of the REST API."""
        return f"{self.url}/api"

    def start(self):
        """Start everything; the site serves once this returns."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        build = AssetBuild()
        if not build.done:
            with tempfile.TemporaryDirectory() as scratch:
                build.ensure(build_app(build, scratch), say=self.say)
        os.environ["INVENIO_STATIC_FOLDER"] = build.static_folder
        os.environ["INVENIO_INSTANCE_PATH"] = os.path.join(self.directory, "instance")
        os.makedirs(os.environ["INVENIO_INSTANCE_PATH"], exist_ok=True)

        database_uri = self._database()
        search_hosts = self._search()
        broker_url = self._broker()
        server = ApiServer(0)
        self.stack.callback(server.stop)
        self.url = server.url

        # The demo's UI configuration (assets, /api, sessions in Redis, CSP,
        # CSRF), with this site's database, indices, workflows and queue.
        config = demo_config(
            self.directory, search_hosts, broker_url, self.url, ui_build=build
        )
        config.pop("WORKFLOWS_PERMISSION_POLICY")  # the module's default policy
        config.update(
            SQLALCHEMY_DATABASE_URI=database_uri,
            SEARCH_INDEX_PREFIX=f"{self.name}-",
            WORKFLOWS_DEFINITIONS=DEFINITIONS,
            CELERY_IMPORTS=["tests.e2e.workflows"],
            CELERY_TASK_DEFAULT_QUEUE=self.name,
            SECURITY_POST_LOGIN_VIEW="/administration/",
            WORKFLOWS_ADMIN_POLL_INTERVAL=500,
            WORKFLOWS_INDEX_DELAY=0.05,
        )
        self.config = config

        self.worker = Worker(config, self.directory)
        self.stack.callback(self.worker.stop)
        self.worker.start()

        self.app = create_demo_app(config, ui=True)
        self.app.register_blueprint(host_blueprint())
        self._create_storage(database_uri)
        server.start(self.app)
        celery = self.app.extensions["flask-celeryext"].celery
        self.worker.wait_ready(celery, time.monotonic() + 60)
        self.say(f"site: {self.url} (worker log {self.worker.log_path})")

    def _database(self):
        """A private database: a schema of its own on PostgreSQL, else SQLite."""
        uri = os.environ.get("SQLALCHEMY_DATABASE_URI", "")
        if not uri.startswith("postgresql"):
            return f"sqlite:///{os.path.join(self.directory, 'e2e.db')}"
        admin = sa.create_engine(uri, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {self.name}"))

        def drop():
            with admin.connect() as connection:
                connection.execute(
                    sa.text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
                )
            admin.dispose()

        self.stack.callback(drop)
        url = sa.engine.make_url(uri)
        url = url.update_query_dict({"options": f"-csearch_path={self.name}"})
        return url.render_as_string(hide_password=False)

    def _search(self):
        if os.environ.get("SEARCH_HOSTS"):
            return ast.literal_eval(os.environ["SEARCH_HOSTS"])
        search = Search().start()
        self.stack.callback(search.stop)
        return search.hosts

    def _broker(self):
        if os.environ.get("WORKFLOWS_TEST_REDIS_URL"):
            return os.environ["WORKFLOWS_TEST_REDIS_URL"]
        broker = Broker(os.path.join(self.directory, "broker")).start()
        self.stack.callback(broker.stop)
        return broker.url

    def _create_storage(self, database_uri):
        from invenio_db import db
        from invenio_search import current_search

        with self.app.app_context():
            if database_uri.startswith("sqlite"):
                with db.engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            db.create_all()
            db.session.commit()
            db.session.remove()
            list(current_search.create(ignore_existing=True))

        def delete_indices():
            with self.app.app_context():
                list(current_search.delete(ignore=[404]))

        self.stack.callback(delete_indices)

    def stop(self):
        """Stop everything the site started and remove its directory."""
        try:
            self.stack.close()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


class Actions:
    """What a test does on the site's database, outside the browser."""

    def __init__(self, site):
        """Actions on ``site`` (started)."""
        self.site = site

    def create(self, name, params=None, start=True, owner_id=None, subject=None):
        """Create (and start) a workflow as the system; its id."""
        from invenio_access.permissions import system_identity

        from invenio_workflow_records.proxies import current_workflows_service

        body = {"name": name, "params": params or {}, "start": start}
        if subject:
            body["subject"] = subject
        owner = {"user": str(owner_id)} if owner_id else None
        with self.site.app.app_context():
            item = current_workflows_service.create(system_identity, body, owner=owner)
            return item.id

    def workflow(self, workflow_id):
        """The workflow as the REST API shows it to an administrator."""
        from invenio_access.permissions import system_identity
        from invenio_db import db

        from invenio_workflow_records.proxies import current_workflows_service

        with self.site.app.app_context():
            try:
                return current_workflows_service.read(
                    system_identity, workflow_id
                ).to_dict()
            finally:
                db.session.remove()

    def tasks(self, workflow_id):
        """The workflow's tasks, in plan order."""
        from invenio_access.permissions import system_identity
        from invenio_db import db

        from invenio_workflow_records.proxies import current_tasks_service

        with self.site.app.app_context():
            try:
                result = current_tasks_service.list(system_identity, workflow_id)
                return list(result)
            finally:
                db.session.remove()

    def wait_status(self, workflow_id, statuses, timeout=60.0):
        """Wait until the workflow's status is one of ``statuses``; the workflow."""
        deadline = time.monotonic() + timeout
        while True:
            workflow = self.workflow(workflow_id)
            if workflow["status"] in statuses:
                return workflow
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"workflow {workflow_id} is {workflow['status']}, not in "
                    f"{statuses} after {timeout}s; worker log:\n"
                    + self.site.worker.log_tail()
                )
            time.sleep(0.2)

    def wait_indexed(self):
        """Make every indexed change visible to searches."""
        from invenio_search import current_search_client

        deadline = time.monotonic() + 10
        with self.site.app.app_context():
            from invenio_workflow_records.indexing import drain

            while drain().indexed and time.monotonic() < deadline:
                pass
            current_search_client.indices.refresh(
                index=f"{self.site.config['SEARCH_INDEX_PREFIX']}*"
            )

# SPDX-License-Identifier: MIT
"""Configuration and Flask application of the demo instance.

The demo process and its Celery worker build the same Invenio REST API
application (``invenio_app.factory.create_api``) from the same configuration:
:func:`demo_config` makes it (JSON-serializable, so that it reaches the
worker in the environment variable :data:`CONFIG_ENV`) and
:func:`create_demo_app` builds the application from it.
"""

import json
import os
import secrets

from .workflows import DEFINITIONS

CONFIG_ENV = "WORKFLOWS_DEMO_APP_CONFIG"
"""Environment variable with the application configuration, as JSON."""

INDEX_PREFIX = "demo-"
"""Prefix of the demo's search indices."""

SECURE_HEADERS = {
    "force_https": False,
    "force_https_permanent": False,
    "force_file_save": False,
    "frame_options": "sameorigin",
    "frame_options_allow_from": None,
    "strict_transport_security": False,
    "strict_transport_security_preload": False,
    "strict_transport_security_max_age": 0,
    "strict_transport_security_include_subdomains": False,
    "content_security_policy": {"default-src": ["'self'"]},
    "content_security_policy_report_uri": None,
    "content_security_policy_report_only": False,
    "session_cookie_secure": False,
    "session_cookie_http_only": True,
}
"""Talisman headers for plain HTTP on 127.0.0.1 (Invenio forces HTTPS)."""


def demo_config(directory, search_hosts, broker_url, api_url):
    """The application configuration of a demo instance in ``directory``.

    ``search_hosts`` is the ``SEARCH_HOSTS`` list, ``broker_url`` the Redis
    URL of the broker and ``api_url`` the base URL of the REST API (used in
    the ``links`` of the responses).
    """
    secret = secrets.token_hex(24)
    return {
        "SECRET_KEY": secret,
        "SECURITY_PASSWORD_SALT": secret,
        "SITE_API_URL": api_url,
        "SITE_UI_URL": api_url,
        "APP_DEFAULT_SECURE_HEADERS": SECURE_HEADERS,
        "RATELIMIT_ENABLED": False,
        "MAIL_SUPPRESS_SEND": True,
        "CACHE_TYPE": "SimpleCache",
        # Database: an SQLite file shared by this process and the worker.
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(directory, 'demo.db')}",
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        # Search: the embedded osmem-server.
        "SEARCH_HOSTS": search_hosts,
        "SEARCH_INDEX_PREFIX": INDEX_PREFIX,
        # Records use "local://" JSON schema references.
        "JSONSCHEMAS_HOST": "localhost",
        "RECORDS_REFRESOLVER_CLS": "invenio_records.resolver.InvenioRefResolver",
        "RECORDS_REFRESOLVER_STORE": (
            "invenio_jsonschemas.proxies.current_refresolver_store"
        ),
        # Celery: a real worker on the embedded broker, no result backend.
        "BROKER_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": None,
        "CELERY_TASK_ALWAYS_EAGER": False,
        "CELERY_TASK_SERIALIZER": "json",
        "CELERY_RESULT_SERIALIZER": "json",
        "CELERY_ACCEPT_CONTENT": ["json"],
        "CELERY_TASK_ACKS_LATE": True,
        "CELERY_WORKER_PREFETCH_MULTIPLIER": 1,
        "CELERY_WORKER_HIJACK_ROOT_LOGGER": False,
        # The module.
        "WORKFLOWS_DEFINITIONS": DEFINITIONS,
        "WORKFLOWS_PERMISSION_POLICY": (
            "invenio_workflow_records.demo.permissions:DemoPermissionPolicy"
        ),
    }


def dump_config(config):
    """``config`` as the JSON text of :data:`CONFIG_ENV`."""
    return json.dumps(config)


def load_config(environ=None):
    """The configuration in :data:`CONFIG_ENV`, or ``None`` if unset."""
    raw = (os.environ if environ is None else environ).get(CONFIG_ENV)
    return json.loads(raw) if raw else None


def create_demo_app(config):
    """The Invenio REST API application of the demo, built from ``config``.

    Both processes use SQLAlchemy's ``NullPool``: no connection outlives its
    session, none is shared across the worker's fork, and SQLite's locks
    are held only as long as a transaction.
    """
    from invenio_app.factory import create_api
    from sqlalchemy.pool import NullPool

    return create_api(
        **config, SQLALCHEMY_ENGINE_OPTIONS={"poolclass": NullPool, "echo": False}
    )

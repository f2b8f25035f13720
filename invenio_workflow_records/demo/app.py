# SPDX-License-Identifier: MIT
"""Configuration and Flask application of the demo instance.

The demo process and its Celery worker build their applications from the
same configuration: :func:`demo_config` makes it (JSON-serializable, so that
it reaches the worker in the environment variable :data:`CONFIG_ENV`) and
:func:`create_demo_app` builds an application from it. The worker's is the
REST API alone (``invenio_app.factory.create_api``); the demo serves either
the same or, with the UI, the UI application with the REST API under
``/api`` (``invenio_app.factory.create_app``).
"""

import json
import os
import secrets
from urllib.parse import urlsplit, urlunsplit

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

UI_CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    # Semantic UI embeds its icon fonts and images as data: URLs, and
    # libraries inject <style> elements; scripts stay 'self' only.
    "font-src": ["'self'", "data:"],
    "img-src": ["'self'", "data:"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "object-src": ["'none'"],
}
"""The pages' Content-Security-Policy: no inline or foreign script."""


SESSION_REDIS_DB = 1
"""Database of the broker's Redis server that holds the login sessions."""


def session_redis_url(broker_url, database=SESSION_REDIS_DB):
    """``broker_url`` (``redis://host:port/0``) with another database number.

    >>> session_redis_url("redis://127.0.0.1:6379/0")
    'redis://127.0.0.1:6379/1'
    """
    parts = urlsplit(broker_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def api_url_of(server_url, ui=False):
    """Base URL of the REST API: under ``/api`` with the UI, else the root.

    >>> api_url_of("http://127.0.0.1:5000", ui=True)
    'http://127.0.0.1:5000/api'
    """
    return f"{server_url}/api" if ui else server_url


def demo_config(directory, search_hosts, broker_url, server_url, ui_build=None):
    """The application configuration of a demo instance in ``directory``.

    ``search_hosts`` is the ``SEARCH_HOSTS`` list, ``broker_url`` the Redis
    URL of the broker and ``server_url`` the base URL the demo serves on
    (used in the ``links`` of the responses). With ``ui_build`` (a finished
    :class:`.assets.AssetBuild`), the configuration of the UI application:
    its assets, the REST API under ``/api``, the pages' content security
    policy, the dashboard after the login and login sessions in the broker's
    Redis server (:data:`SESSION_REDIS_DB`), so that the UI and the API
    application share them. The worker's REST application ignores these.
    """
    secret = secrets.token_hex(24)
    config = _base_config(directory, search_hosts, broker_url, secret)
    config["SITE_UI_URL"] = server_url
    config["SITE_API_URL"] = api_url_of(server_url, ui=ui_build is not None)
    if ui_build is not None:
        config.update(ui_build.app_config())
        config["ACCOUNTS_SESSION_REDIS_URL"] = session_redis_url(broker_url)
        config["APP_DEFAULT_SECURE_HEADERS"] = {
            **SECURE_HEADERS,
            "content_security_policy": UI_CONTENT_SECURITY_POLICY,
        }
        # After the login, the workflows dashboard (the demo has no "/").
        config["SECURITY_POST_LOGIN_VIEW"] = "/administration/workflows"
        # The pages write with the session cookie: require the CSRF header
        # (invenio-rest leaves the check off by default; InvenioRDM turns it on).
        config["REST_CSRF_ENABLED"] = True
    return config


def _base_config(directory, search_hosts, broker_url, secret):
    """What every demo application needs: storage, broker, the module."""
    return {
        "SECRET_KEY": secret,
        "SECURITY_PASSWORD_SALT": secret,
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


def create_demo_app(config, ui=False):
    """The Invenio application of the demo, built from ``config``.

    ``ui``: the UI application with the REST API under ``/api``
    (``invenio_app.factory.create_app``, what the pages need); else the REST
    API alone (the worker's). Both processes use SQLAlchemy's ``NullPool``:
    no connection outlives its session, none is shared across the worker's
    fork, and SQLite's locks are held only as long as a transaction.
    """
    from invenio_app.factory import create_api, create_app
    from sqlalchemy.pool import NullPool

    factory = create_app if ui else create_api
    return factory(
        **{
            "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool, "echo": False},
            **config,
        }
    )

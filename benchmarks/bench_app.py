# SPDX-License-Identifier: MIT
"""The Invenio application of ``benchmarks/compare.py``, in its three roles.

* imported by the benchmark process (:func:`create_app`);
* the module's Celery worker::

      python -m celery -A bench_app worker ...

  builds the same REST API application (``invenio_app.factory.create_api``)
  from the settings given, as JSON, in ``BENCH_APP_CONFIG`` and exposes its
  Celery app as ``celery``; it counts its SQL (see :mod:`bench_sql`) and
  writes, when ready, which ``invenio_workflow_records`` it imported;
* the HTTP server of the REST API::

      python bench_app.py serve --port PORT

  (same environment variable), a single-threaded werkzeug server on
  127.0.0.1.

Settings (all JSON): ``db``, ``redis``, ``queue``, ``search_hosts``,
``index_prefix``, ``instance_path``, ``counters_dir``, ``run_dir``.
"""

import json
import os
import sys

CONFIG_ENV = "BENCH_APP_CONFIG"

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def app_config(settings):
    """The configuration given to ``create_api``."""
    import bench_tasks

    return dict(
        SQLALCHEMY_DATABASE_URI=settings["db"],
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        SEARCH_HOSTS=settings["search_hosts"],
        SEARCH_INDEX_PREFIX=settings["index_prefix"],
        SECRET_KEY="bench-secret-key",
        SECURITY_PASSWORD_SALT="bench-secret-key",
        JSONSCHEMAS_HOST="localhost",
        RECORDS_REFRESOLVER_CLS="invenio_records.resolver.InvenioRefResolver",
        RECORDS_REFRESOLVER_STORE=(
            "invenio_jsonschemas.proxies.current_refresolver_store"
        ),
        APP_DEFAULT_SECURE_HEADERS=dict(
            force_https=False, content_security_policy={"default-src": []}
        ),
        RATELIMIT_ENABLED=False,
        DEBUG_TB_ENABLED=False,
        MAIL_SUPPRESS_SEND=True,
        # Celery as in tests/integration/conftest.py: Redis broker, no result
        # backend, one queue of our own, prefetch 1, acks late.
        BROKER_URL=settings["redis"],
        CELERY_BROKER_URL=settings["redis"],
        CELERY_RESULT_BACKEND=None,
        CELERY_TASK_ALWAYS_EAGER=False,
        CELERY_TASK_DEFAULT_QUEUE=settings["queue"],
        CELERY_WORKER_PREFETCH_MULTIPLIER=1,
        CELERY_TASK_ACKS_LATE=True,
        CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP=True,
        WORKFLOWS_DEFINITIONS=bench_tasks.DEFINITIONS,
        WORKFLOWS_PERMISSION_FACTORY="bench_tasks:allow_all",
        WORKFLOWS_PERMISSION_POLICY="bench_tasks:AllowAllPolicy",
    )


def create_app(settings):
    """The REST API application of the benchmark (tasks imported)."""
    import bench_tasks  # noqa: F401 - registers the tasks
    from invenio_app.factory import create_api

    return create_api(instance_path=settings["instance_path"], **app_config(settings))


def _settings():
    raw = os.environ.get(CONFIG_ENV)
    return json.loads(raw) if raw else None


def _worker():
    """Build the worker's application; return its Celery app."""
    settings = _settings()
    if settings is None:
        return None, None
    import bench_sql

    bench_sql.exit_with_parent()
    flask_app = create_app(settings)
    from celery.signals import worker_process_init, worker_ready

    bench_sql.connect_worker_signals(settings["counters_dir"], "module")

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**kwargs):
        # Never share a connection opened before the fork.
        from invenio_db import db

        with flask_app.app_context():
            db.engine.dispose(close=False)

    @worker_ready.connect(weak=False)
    def _ready(**kwargs):
        import invenio_workflow_records

        path = os.path.join(settings["run_dir"], "module-worker-ready.json")
        with open(path, "w") as fp:
            json.dump(
                {
                    "package": invenio_workflow_records.__file__,
                    "pid": os.getpid(),
                },
                fp,
            )

    # Flask-CeleryExt gives Celery's current_app proxy: hand over the app.
    return (
        flask_app,
        flask_app.extensions["flask-celeryext"].celery._get_current_object(),
    )


flask_app, celery = _worker() if __name__ != "__main__" else (None, None)
"""The worker's Flask app and the Celery app that ``celery -A`` finds."""


def serve(port):
    """Serve the REST API on 127.0.0.1:``port`` until killed."""
    import logging

    import bench_sql
    from werkzeug.serving import make_server

    bench_sql.exit_with_parent()
    settings = _settings()
    app = create_app(settings)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", port, app, threaded=False)
    print(f"serving on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="HTTP server of the benchmark")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)

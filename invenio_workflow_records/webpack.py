# SPDX-License-Identifier: MIT
"""Webpack bundle of the workflow dashboards (``invenio_assets.webpack``).

The files live in ``invenio_workflow_records/assets/semantic-ui/``: the
admin search rows, the workflow dashboard and the subject widget. Every
instance that shows the pages registers this bundle (the module's
``invenio_assets.webpack`` entry point does it).
"""

from invenio_assets.webpack import WebpackThemeBundle

workflows_ui = WebpackThemeBundle(
    # The package, so that "assets" is invenio_workflow_records/assets.
    "invenio_workflow_records",
    "assets",
    default="semantic-ui",
    themes={
        "semantic-ui": dict(
            entry={
                "invenio-workflow-records-workflows-search": (
                    "./js/invenio_workflow_records/search/workflows.js"
                ),
                "invenio-workflow-records-tasks-search": (
                    "./js/invenio_workflow_records/search/tasks.js"
                ),
                "invenio-workflow-records-details": (
                    "./js/invenio_workflow_records/details/index.js"
                ),
                "invenio-workflow-records-subject": (
                    "./js/invenio_workflow_records/subject/index.js"
                ),
            },
            dependencies={
                # Graph layout (left to right), see docs/design.md, the dashboard.
                "@dagrejs/dagre": "^1.1.4",
            },
            aliases={
                "@js/invenio_workflow_records": "js/invenio_workflow_records",
                "@translations/invenio_workflow_records": (
                    "translations/invenio_workflow_records"
                ),
            },
        ),
    },
)
"""The module's own bundle: to register in every instance that uses the UI."""

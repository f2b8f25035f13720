# SPDX-License-Identifier: MIT
"""Semantic UI theme files and webpack project for the demo instance only.

An Invenio instance (cookiecutter-invenio-rdm, invenio-app-rdm) supplies
``theme.config`` and ``less/site`` through webpack aliases; invenio-theme's
``semantic.less`` does not build without them. The module must not provide
them to real instances (two bundles defining the same aliases clash), so
this bundle is NOT registered through the ``invenio_assets.webpack`` entry
point: the demo selects :data:`demo_project` with
``WEBPACKEXT_PROJECT = "invenio_workflow_records.demo.theme:demo_project"``,
which is invenio-assets' rspack project plus this bundle.
"""

from flask_webpackext import WebpackBundleProject
from invenio_assets.webpack import WebpackThemeBundle
from pywebpack import bundles_from_entry_point

demo_theme = WebpackThemeBundle(
    "invenio_workflow_records",
    # assets/demo/semantic-ui/: copied to the root of the webpack project,
    # where an instance's own less/ and templates/ folders would be.
    "assets/demo",
    default="semantic-ui",
    themes={
        "semantic-ui": dict(
            entry={},
            dependencies={},
            aliases={
                "../../theme.config$": "less/theme.config",
                "../../less/site": "less/site",
                # invenio-theme's fonts are under less/invenio_theme/.
                "../../less": "less",
            },
        ),
    },
)


class _DemoBundles:
    """The entry point bundles, then the demo theme; iterable more than once."""

    def __iter__(self):
        yield from bundles_from_entry_point("invenio_assets.webpack")
        yield demo_theme


demo_project = WebpackBundleProject(
    "invenio_assets.webpack",
    project_folder="assets",
    config_path="build/config.json",
    bundles=_DemoBundles(),
    package_json_source_path="rspack-package.json",
)
"""invenio-assets' ``rspack_project`` with the demo's theme files added."""

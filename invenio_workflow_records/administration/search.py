# SPDX-License-Identifier: MIT
"""Search app configuration of the admin list views, taken from the services.

``AdminResourceListView`` reads the facets, sorts and the selected
facets/sorts from three application config variables. The module's services
already define their facets and sort options, so the views build the
React-SearchKit configuration from them; an instance can still override the
selection with the ``search_config_name`` variable (``WORKFLOWS_ADMIN_SEARCH``
or ``WORKFLOWS_ADMIN_TASKS_SEARCH``, e.g. ``{"facets": ["status"],
"sort": ["newest", "name"]}``), without the variable being required.
"""

from flask import current_app
from invenio_search_ui.searchconfig import FacetsConfig, SearchAppConfig, SortConfig


def facets_ui(search_options, names=None):
    """``{name: {"facet": ..., "ui": {"field": name}}}`` for the named facets.

    The REST API returns each aggregation, and takes each filter, under the
    facet's name (``?workflow=...``), not the index field (``workflow_name``).
    """
    facets = search_options.facets
    return {
        name: {"facet": facets[name], "ui": {"field": name}}
        for name in (names or facets)
    }


def build_search_app_config(
    search_options,
    config_name,
    default_facets,
    default_sorts,
    endpoint,
    headers,
    pagination_options=(20, 50, 100),
    default_size=20,
):
    """The ``search_config`` callable the ``search.html`` template calls."""

    def search_config(**overrides):
        selected = current_app.config.get(config_name) or {}
        facet_names = selected.get("facets", default_facets)
        sort_names = selected.get("sort", default_sorts)
        sort = SortConfig(
            search_options.sort_options,
            sort_names,
            selected.get("sort_default", search_options.sort_default),
            selected.get("sort_default_no_query", search_options.sort_default_no_query),
        )
        facets = FacetsConfig(facets_ui(search_options), facet_names)
        opts = dict(
            endpoint=endpoint,
            headers=headers,
            grid_view=False,
            sort=sort,
            facets=facets,
            pagination_options=pagination_options,
            default_size=default_size,
        )
        return SearchAppConfig.generate(opts, **overrides)

    return search_config


class ServiceSearchConfig:
    """Mixin of the list views: ``init_search_config`` from ``search_options``.

    A view sets ``search_options`` (the service's ``SearchOptions``),
    ``search_config_name``, ``default_facets`` and ``default_sorts``.
    """

    search_options = None
    default_facets = ()
    default_sorts = ()

    def init_search_config(self, **kwargs):
        """Facets and sorts of the search app, from the service's search options."""
        return build_search_app_config(
            self.search_options,
            self.get_search_app_name(**kwargs),
            list(self.default_facets),
            list(self.default_sorts),
            endpoint=self.get_api_endpoint(**kwargs),
            headers=self.get_search_request_headers(**kwargs),
        )

# SPDX-License-Identifier: MIT
"""Permission generators of workflows and tasks."""

from flask import current_app
from flask_principal import UserNeed
from invenio_access.permissions import authenticated_user
from invenio_records_permissions.generators import Generator
from invenio_search.engine import dsl

from ..definitions import DefinitionError
from ..proxies import current_definitions


def _workflow_of(record=None, workflow=None, **kwargs):
    """The workflow a permission check is about (tasks carry a copy of its owner)."""
    return workflow if workflow is not None else record


def _loadable_definitions():
    """Every definition that resolves; a broken one must not break searches."""
    for name in current_definitions.names():
        try:
            yield current_definitions.get(name)
        except DefinitionError as error:
            current_app.logger.error(
                "Workflow definition %r is broken: %s", name, error
            )


class WorkflowOwner(Generator):
    """The user who created the workflow (copied onto its tasks)."""

    def needs(self, **kwargs):
        """The owner's user need, if the workflow has a user owner."""
        workflow = _workflow_of(**kwargs)
        if workflow is None:
            return []
        user_id = (workflow.get("owner") or {}).get("user")
        return [UserNeed(int(user_id))] if user_id else []

    def query_filter(self, identity=None, **kwargs):
        """Documents owned by the identity's user."""
        if identity is None or identity.id is None:
            return None
        for need in identity.provides:
            if need.method == "id":
                return dsl.Q("term", **{"owner.user": str(need.value)})
        return None


class DefinitionSearchGrant(Generator):
    """Workflow types whose permission factory lets the identity search them.

    A definition's ``permission_factory`` decides single records through the
    service (it is called with the workflow); for search it is called once
    per definition with ``workflow=None`` and action ``"search"``, and each
    type it allows is added to the search filter.
    """

    def __init__(self, name_field="name"):
        """Filter on ``name_field`` (the definition name in the document)."""
        self.name_field = name_field

    def query_filter(self, identity=None, **kwargs):
        """Terms filter on the names of the definitions the identity may search."""
        if identity is None:
            return None
        allowed = [
            definition.name
            for definition in _loadable_definitions()
            if definition.permission_factory is not None
            and definition.permission_factory(None, "search").allows(identity)
        ]
        if not allowed:
            return None
        return dsl.Q("terms", **{self.name_field: allowed})


class AuthenticatedSearcher(Generator):
    """Any logged-in user may search, but sees only what other generators allow.

    Its filter matches nothing: the policy's filters are OR-ed together and an
    empty list would mean "match all", so this keeps a user that no other
    generator grants anything from seeing every workflow.
    """

    def needs(self, **kwargs):
        """Any authenticated user."""
        return [authenticated_user]

    def query_filter(self, **kwargs):
        """Match no document by itself."""
        return ~dsl.Q("match_all")

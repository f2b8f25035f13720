# SPDX-License-Identifier: MIT
"""What the workflows and tasks services share."""

from invenio_access.permissions import system_process
from invenio_records_resources.services import RecordService
from sqlalchemy_continuum import version_class

from ..definitions import DefinitionError, UnknownWorkflowError
from ..proxies import current_definitions
from .results import RevisionList


class WorkflowServiceBase(RecordService):
    """Record service whose permissions can be decided per workflow definition.

    A definition's ``permission_factory`` (or ``WORKFLOWS_PERMISSION_FACTORY``)
    is called as ``permission_factory(workflow, action)``; when a definition
    has one, its permission decides, otherwise the service's policy does.
    """

    @staticmethod
    def definition_of(name):
        """The registered definition called ``name``, or None if it is gone."""
        try:
            return current_definitions.get(name)
        except UnknownWorkflowError:
            return None

    def check_permission(
        self, identity, action_name, definition=None, workflow=None, **kwargs
    ):
        """Ask the definition's permission factory, else the policy.

        System processes may do everything, whatever a factory says. A search
        is allowed when the policy or any definition's factory allows it (the
        search filter then keeps only what the identity may see).
        """
        if system_process in identity.provides:
            return True
        if action_name in ("search", "search_tasks") and workflow is None:
            if super().check_permission(identity, action_name, **kwargs):
                return True
            return any(
                d.permission_factory is not None
                and d.permission_factory(None, "search").allows(identity)
                for d in self._definitions()
            )
        if definition is None and workflow is not None:
            definition = self.definition_of(workflow.get("name"))
        factory = definition.permission_factory if definition else None
        if factory is not None:
            return factory(workflow, action_name).allows(identity)
        return super().check_permission(
            identity, action_name, workflow=workflow, **kwargs
        )

    @staticmethod
    def _definitions():
        """Every definition that resolves."""
        for name in current_definitions.names():
            try:
                yield current_definitions.get(name)
            except DefinitionError:
                continue

    search_action = "search"
    """Policy action whose filters decide which documents a search returns."""

    def search(self, identity, params=None, search_preference=None, **kwargs):
        """Search, filtered by the ``search_action`` of the policy."""
        kwargs.setdefault("permission_action", self.search_action)
        return super().search(
            identity, params=params, search_preference=search_preference, **kwargs
        )

    def revisions(self, identity, record, page=1, size=25):
        """One page of a record's revisions, newest first."""
        version_cls = version_class(self.record_cls.model_cls)
        query = version_cls.query.filter_by(id=record.id)
        total = query.count()
        rows = (
            query.order_by(version_cls.transaction_id.desc())
            .offset((page - 1) * size)
            .limit(size)
            .all()
        )
        revisions = [self.record_cls(row.json, model=row) for row in rows]
        return RevisionList(self, identity, revisions, total, page, size)

# SPDX-License-Identifier: MIT
"""Search parameter interpreters of the workflows and tasks services."""

from invenio_records_resources.services.records.params import ParamInterpreter
from invenio_search.engine import dsl
from marshmallow import ValidationError


class SubjectParam(ParamInterpreter):
    """Filter workflows on ``subject=type:id``."""

    def apply(self, identity, search, params):
        """Add a filter on ``subject.type`` and ``subject.id``."""
        subject = params.pop("subject", None)
        if not subject:
            return search
        subject_type, sep, subject_id = subject.partition(":")
        if not sep or not subject_type or not subject_id:
            raise ValidationError(
                {"subject": ["Expected 'type:id', for example 'record:abcd-1234'."]}
            )
        return search.filter(
            dsl.Q("term", **{"subject.type": subject_type})
            & dsl.Q("term", **{"subject.id": subject_id})
        )


class WorkflowIdParam(ParamInterpreter):
    """Filter tasks on ``workflow_id``."""

    def apply(self, identity, search, params):
        """Add a terms filter on ``workflow_id``."""
        workflow_ids = params.pop("workflow_id", None)
        if not workflow_ids:
            return search
        if isinstance(workflow_ids, str):
            workflow_ids = [workflow_ids]
        return search.filter(dsl.Q("terms", workflow_id=list(workflow_ids)))


DATE_FILTERS = {
    f"{field}_{bound}": (field, operator)
    for field in ("created", "started_at", "finished_at")
    for bound, operator in (("after", "gte"), ("before", "lt"))
}
"""Query arguments of the date filters: ``created_after``, ``finished_before``..."""


class DateRangeParam(ParamInterpreter):
    """Filter on dates without query syntax: ``?finished_at_after=2026-12-01``.

    ``<field>_after`` keeps records at or after the moment, ``<field>_before``
    those strictly before it, for ``created``, ``started_at`` and
    ``finished_at``; a date alone means its midnight (UTC).
    """

    def apply(self, identity, search, params):
        """Add one range filter per date argument given."""
        ranges = {}
        for argument, (field, operator) in DATE_FILTERS.items():
            value = params.pop(argument, None)
            if value is not None:
                ranges.setdefault(field, {})[operator] = value.isoformat()
        for field, bounds in ranges.items():
            search = search.filter(dsl.Q("range", **{field: bounds}))
        return search

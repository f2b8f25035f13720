# SPDX-License-Identifier: MIT
"""Query-string argument fields shared by the resources."""

from datetime import datetime, time, timezone

import marshmallow as ma


class MomentField(ma.fields.Field):
    """An ISO 8601 date-time, or a date (its midnight), as an aware UTC datetime."""

    default_error_messages = {
        "invalid": "Not a valid date or date-time (ISO 8601, e.g. 2026-12-01)."
    }

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise self.make_error("invalid")
        if len(text) == 10:
            moment = datetime.combine(moment.date(), time())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)


class DateFilterArgs(ma.Schema):
    """The date filters of a search: ``<field>_after`` and ``<field>_before``."""

    created_after = MomentField()
    created_before = MomentField()
    started_at_after = MomentField()
    started_at_before = MomentField()
    finished_at_after = MomentField()
    finished_at_before = MomentField()

# SPDX-License-Identifier: MIT
"""Marshmallow schemas shared by the workflow and task services."""

from datetime import timezone

from marshmallow import Schema, fields, validate
from marshmallow_utils.fields import TZDateTime


def _dump_datetime():
    return TZDateTime(timezone=timezone.utc, format="iso", dump_only=True)


class SubjectSchema(Schema):
    """What a workflow works on: ``{"type": "record", "id": "abcd-1234"}``."""

    type = fields.String(required=True, validate=validate.Length(min=1, max=255))
    id = fields.String(required=True, validate=validate.Length(min=1, max=255))


class RecordOutputSchema(Schema):
    """Fields every workflow or task record shows, taken from the model."""

    id = fields.String(dump_only=True)
    created = _dump_datetime()
    updated = _dump_datetime()
    revision_id = fields.Integer(dump_only=True)


def dump_fields(*names):
    """Raw pass-through fields for the JSON keys of a record, output only."""
    return {name: fields.Raw(dump_only=True) for name in names}

# SPDX-License-Identifier: MIT
"""Schemas of the workflows service: what a client may send, what it gets."""

from marshmallow import RAISE, Schema, fields, validate

from ..schemas import RecordOutputSchema, SubjectSchema, dump_fields


class WorkflowCreateSchema(Schema):
    """Body of ``POST /workflows``."""

    class Meta:
        """Unknown keys are errors: a typo must not be silently ignored."""

        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    params = fields.Dict(keys=fields.String(), load_default=dict)
    subject = fields.Nested(SubjectSchema)
    idempotency_key = fields.String(validate=validate.Length(min=1, max=255))
    start = fields.Boolean(load_default=False)


class WorkflowActionSchema(Schema):
    """Body of start, restart and resume: optional params."""

    class Meta:
        """Unknown keys are errors."""

        unknown = RAISE

    params = fields.Dict(keys=fields.String(), load_default=dict)


WorkflowSchema = RecordOutputSchema.from_dict(
    dump_fields(
        "name",
        "title",
        "status",
        "run",
        "params",
        "subject",
        "idempotency_key",
        "owner",
        "task_counts",
        "message",
        "started_at",
        "finished_at",
        "duration",
        "actor",
    ),
    name="WorkflowSchema",
)
"""A workflow as the API shows it."""

# SPDX-License-Identifier: MIT
"""Schemas of the tasks service."""

from marshmallow import RAISE, Schema, fields

from ..schemas import RecordOutputSchema, dump_fields


class TaskRestartSchema(Schema):
    """Body of a task restart."""

    class Meta:
        """Unknown keys are errors."""

        unknown = RAISE

    params = fields.Dict(keys=fields.String(), load_default=dict)
    downstream = fields.Boolean(load_default=True)
    dry_run = fields.Boolean(load_default=False)


TaskSchema = RecordOutputSchema.from_dict(
    dump_fields(
        "workflow_id",
        "workflow_name",
        "name",
        "short_name",
        "key",
        "parents",
        "status",
        "run",
        "attempt",
        "celery_id",
        "args",
        "kwargs",
        "result",
        "message",
        "error",
        "progress",
        "retries",
        "worker",
        "queued_at",
        "started_at",
        "finished_at",
        "duration",
        "overrides",
        "lost",
        "resends",
        "actor",
    ),
    name="TaskSchema",
)
"""A task as the API shows it."""

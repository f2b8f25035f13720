# SPDX-License-Identifier: MIT
"""The workflows service: create, read, search and history of workflow runs."""

import uuid

from invenio_access.permissions import system_identity
from invenio_db import db
from invenio_records_resources.services.uow import unit_of_work
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from ...definitions import InvalidParamsError, UnknownWorkflowError
from ...engine import runner
from ...engine.errors import WorkflowStateError
from ...engine.planning import build_tasks
from ...proxies import current_definitions
from ...records import WorkflowRecord
from ...records.models import WorkflowMetadata
from ..base import WorkflowServiceBase
from .schema import WorkflowActionSchema, WorkflowCreateSchema


def with_live_counts(workflow):
    """The workflow with ``task_counts`` from its live counters."""
    if workflow.model is not None and workflow.model.task_counts is not None:
        workflow["task_counts"] = {
            k: v for k, v in sorted(workflow.model.task_counts.items()) if v
        }
    return workflow


def owner_of(identity):
    """The ``owner`` (or ``actor``) value of what ``identity`` does.

    The system identity is the system; an identity without a user (where a
    definition's permission factory lets anonymous callers act) is anonymous.
    """
    if identity is system_identity or identity.id == "system":
        return {"system": True}
    if identity.id is None:
        return {"anonymous": True}
    return {"user": str(identity.id)}


class WorkflowsService(WorkflowServiceBase):
    """Create, read and search workflow runs."""

    def __init__(self, config, tasks_service=None):
        """Service with its config and the tasks service (for task indexing)."""
        super().__init__(config)
        self.tasks_service = tasks_service

    @staticmethod
    def load(schema_cls, data):
        """Validate a request body; errors list every bad field."""
        return schema_cls().load(data or {})

    @staticmethod
    def definition_or_error(name):
        """The definition called ``name``, or a 400-style error on ``name``."""
        try:
            return current_definitions.get(name)
        except UnknownWorkflowError as error:
            raise ValidationError({"name": [str(error)]})

    @staticmethod
    def effective_params(definition, data):
        """Default params overlaid with ``data``, validated; 400-style errors."""
        try:
            return definition.effective_params(data)
        except InvalidParamsError as error:
            raise ValidationError({e["field"]: e["messages"] for e in error.errors})

    def find_replay(self, name, idempotency_key):
        """The workflow already created with this name and key, if any."""
        if not idempotency_key:
            return None
        model = WorkflowMetadata.query.filter_by(
            name=name, idempotency_key=idempotency_key
        ).one_or_none()
        return WorkflowRecord(model.data, model=model) if model else None

    @unit_of_work()
    def create(self, identity, data, owner=None, uow=None, expand=False):
        """Create a workflow run and one ``pending`` task per node of its plan.

        ``owner`` lets a host module create on behalf of a user while calling
        with the system identity. A second create with the same name and
        ``idempotency_key`` returns the first workflow (``item.created`` is
        False).
        """
        data = self.load(WorkflowCreateSchema, data)
        definition = self.definition_or_error(data["name"])
        self.require_permission(identity, "create", definition=definition)
        params = self.effective_params(definition, data["params"])

        existing = self.find_replay(definition.name, data.get("idempotency_key"))
        if existing is not None:
            return self._replayed(identity, existing, params, data)

        workflow_data = {
            "name": definition.name,
            "title": definition.title or definition.name,
            "status": "created",
            "run": 0,
            "params": params,
            "owner": owner or owner_of(identity),
        }
        for key in ("subject", "idempotency_key"):
            if data.get(key):
                workflow_data[key] = data[key]

        plan = definition.plan()
        workflow_data["task_counts"] = {"pending": len(plan)}
        try:
            with db.session.begin_nested():
                workflow = WorkflowRecord.create(workflow_data, id_=uuid.uuid4())
        except IntegrityError:
            # A concurrent create with the same idempotency key won the race.
            existing = self.find_replay(definition.name, data["idempotency_key"])
            if existing is None:
                raise
            return self._replayed(identity, existing, params, data)

        tasks = build_tasks(workflow, plan)
        if data.get("start"):
            # Written once, already started, in the same transaction.
            self.require_permission(identity, "start", workflow=workflow)
            runner.start(
                workflow.id,
                workflow["params"],
                uow,
                new_tasks=tasks,
                actor=owner_of(identity),
            )
        else:
            runner.insert_plan(workflow.id, tasks, uow)
        return self.result_item(
            self,
            identity,
            with_live_counts(self.record_cls.pid.resolve(workflow.id)),
            links_tpl=self.links_item_tpl,
            expand=expand,
        )

    def _replayed(self, identity, workflow, params, data):
        """The workflow first created with this key, if the request is the same."""
        self.require_permission(identity, "read", workflow=workflow)
        # The first revision: a restart may have changed the params since.
        first_params = workflow.revisions[0].get("params", {})
        if first_params != params or workflow.get("subject") != data.get("subject"):
            raise WorkflowStateError(
                f"The idempotency key {workflow['idempotency_key']!r} was already "
                f"used for workflow {workflow.id} with other params or subject; "
                "use a new key for a different request."
            )
        item = self.result_item(self, identity, workflow, links_tpl=self.links_item_tpl)
        item.created = False
        return item

    def _act(self, identity, id_, action):
        """The workflow ``id_``, once ``identity`` may do ``action`` on it."""
        workflow = self.record_cls.pid.resolve(id_)
        self.require_permission(identity, action, workflow=workflow)
        return workflow

    def _fresh_item(self, identity, workflow_id):
        """The workflow as the engine just wrote it, with its live counters."""
        workflow = self.record_cls.pid.resolve(workflow_id)
        return self.result_item(
            self, identity, with_live_counts(workflow), links_tpl=self.links_item_tpl
        )

    @unit_of_work()
    def start(self, identity, id_, data=None, uow=None):
        """Start a created workflow with its params (409 unless ``created``)."""
        workflow = self._act(identity, id_, "start")
        definition = self.definition_or_error(workflow["name"])
        body = self.load(WorkflowActionSchema, data)
        params = self.effective_params(
            definition, {**workflow.get("params", {}), **body["params"]}
        )
        runner.start(workflow.id, params, uow, actor=owner_of(identity))
        return self._fresh_item(identity, workflow.id)

    @unit_of_work()
    def stop(self, identity, id_, uow=None):
        """Stop a running workflow."""
        workflow = self._act(identity, id_, "stop")
        runner.stop(workflow.id, uow, actor=owner_of(identity))
        return self._fresh_item(identity, workflow.id)

    @unit_of_work()
    def restart(self, identity, id_, data=None, uow=None):
        """Run the whole workflow again with the default params overlaid by ``params``."""
        workflow = self._act(identity, id_, "restart")
        definition = self.definition_or_error(workflow["name"])
        body = self.load(WorkflowActionSchema, data)
        params = self.effective_params(definition, body["params"])
        runner.restart(workflow.id, params, uow, actor=owner_of(identity))
        return self._fresh_item(identity, workflow.id)

    @unit_of_work()
    def resume(self, identity, id_, data=None, uow=None):
        """Run again what did not succeed, with ``params`` overlaid on the run's."""
        workflow = self._act(identity, id_, "resume")
        definition = self.definition_or_error(workflow["name"])
        body = self.load(WorkflowActionSchema, data)
        self.effective_params(
            definition, {**workflow.get("params", {}), **body["params"]}
        )
        runner.resume(workflow.id, body["params"], uow, actor=owner_of(identity))
        return self._fresh_item(identity, workflow.id)

    def read(self, identity, id_, expand=False, action="read", **kwargs):
        """One workflow, with its status and live task counts.

        The document's ``task_counts`` change with the workflow's revisions
        (its lifecycle events); a read answers the live counters, which every
        transition keeps, without loading the tasks.
        """
        workflow = self.record_cls.pid.resolve(id_)
        self.require_permission(identity, action, workflow=workflow)
        return self.result_item(
            self,
            identity,
            with_live_counts(workflow),
            links_tpl=self.links_item_tpl,
            expand=expand,
        )

    def definitions(self, identity):
        """The definitions ``identity`` may create workflows of, for UIs and clients.

        Each: name, title, params schema, default params and the graph of its
        tasks (key, Celery name, short name, parent keys), in plan order.
        Definitions that do not resolve are left out (and logged).
        """
        found = []
        for definition in self._definitions():
            if not self.check_permission(identity, "create", definition=definition):
                continue
            found.append(
                {
                    "name": definition.name,
                    "title": definition.title,
                    "params_schema": definition.params_schema,
                    "default_params": definition.default_params,
                    "tasks": [
                        {
                            "key": node.key,
                            "name": node.task,
                            "short_name": node.task.rsplit(".", 1)[-1],
                            "parents": list(node.parents),
                        }
                        for node in definition.plan()
                    ],
                }
            )
        return {"hits": {"hits": found, "total": len(found)}}

    def read_revisions(self, identity, id_, page=1, size=25):
        """The workflow's revisions, newest first."""
        workflow = self.record_cls.pid.resolve(id_)
        self.require_permission(identity, "read", workflow=workflow)
        return self.revisions(identity, workflow, page=page, size=size)

# SPDX-License-Identifier: MIT
"""The registry of workflow definitions.

Definitions come from ``WORKFLOWS_DEFINITIONS`` and from the entry point group
``invenio_workflow_records.definitions`` (entry point name = workflow name;
the configuration wins over an entry point of the same name). A definition
is a dict with exactly one of

* ``workflow_class``: a :class:`~.workflow.Workflow` subclass or its import
  string, whose ``title``, ``params_schema``, ``default_params`` and
  ``permission_factory`` are used when the dict does not set them;
* ``workflow_definition``: a Celery canvas or its import string;

and optionally ``title``, ``params_schema``, ``default_params`` and
``permission_factory`` (a callable or its import string). An entry point may
also load a ``Workflow`` subclass or a canvas directly.

Import strings (``"pkg.mod:attr"`` or ``"pkg.mod.attr"``) and entry points
are resolved on first use of a name, not when the registry is built, and the
result is cached.
"""

import copy
import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points as metadata_entry_points

from celery import Task
from celery.canvas import Signature
from jsonschema.exceptions import SchemaError
from jsonschema.validators import Draft202012Validator, validator_for

from .errors import (
    DefinitionError,
    DefinitionImportError,
    InvalidDefinitionError,
    InvalidParamsError,
    UnknownWorkflowError,
)
from .plan import compile_plan
from .workflow import Workflow

ENTRY_POINT_GROUP = "invenio_workflow_records.definitions"

_SOURCE_KEYS = ("workflow_class", "workflow_definition")
_OPTIONAL_KEYS = ("title", "params_schema", "default_params", "permission_factory")


def import_object(import_string):
    """Import ``"pkg.mod:attr.sub"`` or ``"pkg.mod.attr"`` and return it."""
    module_name, colon, attribute = import_string.partition(":")
    if not colon:
        module_name, _, attribute = import_string.rpartition(".")
    if not module_name or not attribute:
        raise ImportError("expected the form 'package.module:attribute'")
    obj = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def _resolve(workflow, value, what=None):
    """Import ``value`` when it is an import string, else return it as is."""
    if not isinstance(value, str):
        return value
    try:
        return import_object(value)
    except Exception as error:
        raise DefinitionImportError(workflow, value, error, what=what) from error


class WorkflowDefinition:
    """One registered workflow definition, with its references resolved.

    ``workflow_class`` is the :class:`~.workflow.Workflow` subclass of a
    class-based definition and ``None`` for a bare canvas; ``canvas`` is the
    Celery canvas in both cases. ``title`` defaults to the name.
    """

    def __init__(
        self,
        name,
        canvas,
        workflow_class=None,
        title=None,
        params_schema=None,
        default_params=None,
        permission_factory=None,
        default_permission_factory=None,
    ):
        """Build a definition from resolved values.

        ``default_permission_factory`` is a function without arguments that
        returns the factory to use when the definition has none.
        """
        self.name = name
        self.canvas = canvas
        self.workflow_class = workflow_class
        self.title = title or name
        self._permission_factory = permission_factory
        self._default_permission_factory = default_permission_factory
        self._default_params = self._check_default_params(default_params)
        self.params_schema = params_schema
        self._validator = self._make_validator(params_schema)
        self._plan = None

    def __repr__(self):
        """Name the definition."""
        return f"<WorkflowDefinition {self.name!r}>"

    def _check_default_params(self, default_params):
        """Return a copy of ``default_params``, which must be a dict."""
        if default_params is None:
            return {}
        if not isinstance(default_params, Mapping):
            raise DefinitionError(
                f"Workflow {self.name!r}: default_params must be a dict, "
                f"got {type(default_params).__name__}."
            )
        return copy.deepcopy(dict(default_params))

    def _make_validator(self, schema):
        """Return a validator of ``schema`` (``None`` without a schema)."""
        if schema is None:
            return None
        if not isinstance(schema, Mapping):
            raise DefinitionError(
                f"Workflow {self.name!r}: params_schema must be a dict, "
                f"got {type(schema).__name__}."
            )
        cls = validator_for(schema, default=Draft202012Validator)
        try:
            cls.check_schema(schema)
        except SchemaError as error:
            raise DefinitionError(
                f"Workflow {self.name!r}: invalid params_schema: {error.message}"
            ) from error
        return cls(schema, format_checker=cls.FORMAT_CHECKER)

    @property
    def default_params(self):
        """A copy of the definition's default params."""
        return copy.deepcopy(self._default_params)

    @property
    def permission_factory(self):
        """The definition's permission factory, else the default one."""
        if self._permission_factory is not None:
            return self._permission_factory
        if self._default_permission_factory is not None:
            return self._default_permission_factory()
        return None

    def plan(self):
        """The compiled plan of the canvas (compiled once, then cached)."""
        if self._plan is None:
            try:
                self._plan = compile_plan(self.canvas)
            except InvalidDefinitionError as error:
                raise InvalidDefinitionError(
                    f"Workflow {self.name!r}: {error}"
                ) from error
        return list(self._plan)

    def create_workflow(self, record=None, tasks=None):
        """A :class:`~.workflow.Workflow` instance wrapping the given records."""
        return (self.workflow_class or Workflow)(record=record, tasks=tasks)

    def effective_params(self, data=None):
        """The default params overlaid (shallowly) with ``data``, validated.

        Raises :class:`InvalidParamsError` listing every validation error as
        ``{"field": "params.<path>", "messages": [...]}``.
        """
        if data is not None and not isinstance(data, Mapping):
            raise InvalidParamsError(
                [{"field": "params", "messages": ["Params must be an object."]}]
            )
        params = {**self.default_params, **copy.deepcopy(dict(data or {}))}
        if self._validator is not None:
            errors = _params_errors(self._validator, params)
            if errors:
                raise InvalidParamsError(errors)
        return params


def _params_errors(validator, params):
    """Every validation error of ``params``, grouped by field."""
    messages = {}
    for error in validator.iter_errors(params):
        path = [str(part) for part in error.absolute_path]
        if error.validator == "required":
            missing = _missing_property(error)
            if missing is not None:
                path.append(missing)
        field = ".".join(["params", *path])
        messages.setdefault(field, []).append(error.message)
    return [{"field": field, "messages": messages[field]} for field in sorted(messages)]


def _missing_property(error):
    """The property named by a ``required`` error, if it can be told."""
    for name in error.validator_value:
        if error.message.startswith(repr(name)):
            return str(name)
    return None


class DefinitionRegistry:
    """The workflow definitions known to the application, by name."""

    def __init__(
        self,
        definitions=None,
        entry_point_group=ENTRY_POINT_GROUP,
        default_permission_factory=None,
        entry_points=None,
    ):
        """Keep the sources; nothing is imported yet.

        ``definitions`` is the ``WORKFLOWS_DEFINITIONS`` dict.
        ``entry_points`` is an iterable of entry points (objects with
        ``name``, ``value`` and ``load()``); ``None`` reads the group
        ``entry_point_group`` from the installed distributions.
        ``default_permission_factory`` (a callable or its import string) is
        used by definitions that have no permission factory.
        """
        self._config = dict(definitions or {})
        self._entry_point_group = entry_point_group
        self._entry_points_source = entry_points
        self._entry_points = None
        self._default_permission_factory = default_permission_factory
        self._resolved = {}

    def _entry_point_map(self):
        """The entry points by name, listed once."""
        if self._entry_points is None:
            source = self._entry_points_source
            if source is None:
                source = metadata_entry_points(group=self._entry_point_group)
            found = {}
            for entry_point in source:
                found.setdefault(entry_point.name, []).append(entry_point)
            self._entry_points = found
        return self._entry_points

    def default_permission_factory(self):
        """The default permission factory, imported on first use."""
        value = self._default_permission_factory
        if isinstance(value, str):
            value = _resolve(None, value, what="default permission factory")
            self._default_permission_factory = value
        return value

    def names(self):
        """The sorted names of all registered definitions."""
        return sorted(set(self._config) | set(self._entry_point_map()))

    def __contains__(self, name):
        """Whether a definition is registered under ``name``."""
        return name in self._config or name in self._entry_point_map()

    def __iter__(self):
        """Iterate over the sorted names."""
        return iter(self.names())

    def __len__(self):
        """The number of registered definitions."""
        return len(self.names())

    def items(self):
        """``(name, WorkflowDefinition)`` pairs, sorted by name."""
        return [(name, self.get(name)) for name in self.names()]

    def get(self, name):
        """The definition registered under ``name``, resolved on first use.

        Raises :class:`UnknownWorkflowError` for an unknown name and a
        :class:`DefinitionError` when the definition cannot be resolved.
        """
        definition = self._resolved.get(name)
        if definition is None:
            definition = self._build(name, self._spec(name))
            self._resolved[name] = definition
        return definition

    def _spec(self, name):
        """The raw definition dict of ``name``, from config or entry point."""
        if name in self._config:
            return _as_spec(name, self._config[name])
        entry_points = self._entry_point_map().get(name)
        if not entry_points:
            raise UnknownWorkflowError(name)
        if len(entry_points) > 1:
            values = ", ".join(repr(ep.value) for ep in entry_points)
            raise DefinitionError(
                f"Workflow {name!r} is registered by several entry points: {values}."
            )
        (entry_point,) = entry_points
        try:
            loaded = entry_point.load()
        except Exception as error:
            raise DefinitionImportError(name, entry_point.value, error) from error
        return _as_spec(name, loaded)

    def _build(self, name, spec):
        """Resolve a definition dict into a :class:`WorkflowDefinition`."""
        fallback = {}
        workflow_class = None
        if spec.get("workflow_class") is not None:
            workflow_class = _resolve(name, spec["workflow_class"])
            if not (
                isinstance(workflow_class, type)
                and issubclass(workflow_class, Workflow)
            ):
                raise InvalidDefinitionError(
                    f"Workflow {name!r}: workflow_class must be a subclass of "
                    f"invenio_workflow_records.Workflow, got {workflow_class!r}."
                )
            canvas = workflow_class.workflow
            fallback = {key: getattr(workflow_class, key) for key in _OPTIONAL_KEYS}
        else:
            canvas = _resolve(name, spec["workflow_definition"])
        if canvas is None:
            raise InvalidDefinitionError(f"Workflow {name!r} has no canvas.")
        values = {
            key: spec[key] if spec.get(key) is not None else fallback.get(key)
            for key in _OPTIONAL_KEYS
        }
        values["permission_factory"] = _resolve(name, values["permission_factory"])
        return WorkflowDefinition(
            name,
            canvas,
            workflow_class=workflow_class,
            default_permission_factory=self.default_permission_factory,
            **values,
        )


def _as_spec(name, value):
    """Read a config value or loaded entry point as a definition dict."""
    if isinstance(value, type) and issubclass(value, Workflow):
        return {"workflow_class": value}
    if isinstance(value, (Signature, Task)):
        return {"workflow_definition": value}
    if not isinstance(value, Mapping):
        raise DefinitionError(
            f"Workflow {name!r}: expected a dict with 'workflow_class' or "
            f"'workflow_definition', a Workflow subclass or a canvas, "
            f"got {type(value).__name__}."
        )
    if "task" in value and not any(key in value for key in _SOURCE_KEYS):
        return {"workflow_definition": value}
    sources = [key for key in _SOURCE_KEYS if value.get(key) is not None]
    if len(sources) != 1:
        raise DefinitionError(
            f"Workflow {name!r}: set exactly one of 'workflow_class' and "
            "'workflow_definition'."
        )
    unknown = sorted(set(value) - set(_SOURCE_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        raise DefinitionError(
            f"Workflow {name!r}: unknown keys {', '.join(map(repr, unknown))}."
        )
    return dict(value)

# SPDX-License-Identifier: MIT
"""The base class of class-based workflow definitions."""

import copy

from .errors import InvalidDefinitionError
from .plan import compile_plan


class _CopiedOnAccess:
    """Class attribute whose value is deep-copied on every read.

    Keeps subclasses and instances from sharing (and mutating) one dict.
    """

    def __init__(self, name, value):
        """Keep the attribute name and its value."""
        self.name = name
        self.value = value

    def __get__(self, instance, owner=None):
        """Return a copy of the value (of the instance's own, if set)."""
        if instance is not None and self.name in vars(instance):
            return copy.deepcopy(vars(instance)[self.name])
        return copy.deepcopy(self.value)

    def __set__(self, instance, value):
        """Set the value on an instance only."""
        vars(instance)[self.name] = value


class Workflow:
    """A workflow definition given as a class.

    Subclasses set ``workflow`` to a Celery canvas and may set ``title``,
    ``params_schema`` (JSON schema of the start params), ``default_params``
    and ``permission_factory``; the entries of ``WORKFLOWS_DEFINITIONS``
    override them. ``default_params`` is copied on every access, so changing
    the value read never changes the definition.

    An instance wraps one workflow record (``record``) and its task records
    (``tasks``), both dict-like.
    """

    #: The Celery canvas of the workflow.
    workflow = None

    #: Human-readable name of the workflow.
    title = None

    #: JSON schema of the params of a run, or ``None``.
    params_schema = None

    #: Params used when the start data does not give them.
    default_params = _CopiedOnAccess("default_params", {})

    #: ``permission_factory(workflow, action)``, or ``None`` for the default.
    permission_factory = None

    def __init_subclass__(cls, **kwargs):
        """Make a ``default_params`` set by the subclass copied on access."""
        super().__init_subclass__(**kwargs)
        value = vars(cls).get("default_params")
        if value is not None and not isinstance(value, _CopiedOnAccess):
            cls.default_params = _CopiedOnAccess("default_params", value)

    def __init__(self, record=None, tasks=None):
        """Wrap a workflow record and its task records."""
        self.record = record
        self.tasks = list(tasks) if tasks is not None else []

    @property
    def status(self):
        """Status of the workflow, or ``None`` to let the engine derive it.

        The engine derives the status from the task records when this
        returns ``None``. A subclass may override it to compute its own
        status string from ``self.record`` and ``self.tasks``.
        """
        return None

    @classmethod
    def plan(cls):
        """Compile ``workflow`` into its list of plan nodes."""
        if cls.workflow is None:
            raise InvalidDefinitionError(
                f"Workflow class {cls.__module__}.{cls.__qualname__} does not "
                "set 'workflow' to a Celery canvas."
            )
        return compile_plan(cls.workflow)

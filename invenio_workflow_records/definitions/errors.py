# SPDX-License-Identifier: MIT
"""Errors raised while loading, compiling or parametrising workflow definitions."""


class DefinitionError(Exception):
    """Base class of every error about a workflow definition."""


class DefinitionImportError(DefinitionError):
    """An import string of a definition could not be imported."""

    def __init__(self, workflow, import_string, error, what=None):
        """Name the workflow, the bad import string and the underlying error.

        ``workflow`` may be ``None`` for a setting that belongs to no single
        workflow; ``what`` then says which (e.g. "default permission factory").
        """
        self.workflow = workflow
        self.import_string = import_string
        self.error = error
        prefix = f"Workflow {workflow!r}: cannot" if workflow else "Cannot"
        label = f" ({what})" if what else ""
        super().__init__(
            f"{prefix} import {import_string!r}{label}: "
            f"{type(error).__name__}: {error}"
        )


class InvalidDefinitionError(DefinitionError):
    """A workflow canvas (or a workflow class) is not a valid definition."""


class UnknownWorkflowError(DefinitionError):
    """No workflow definition is registered under the requested name."""

    def __init__(self, name):
        """Keep the unknown name."""
        self.name = name
        super().__init__(f"Unknown workflow {name!r}.")


class InvalidParamsError(DefinitionError):
    """The params of a run do not validate against the definition's schema.

    ``errors`` lists every problem as ``{"field": ..., "messages": [...]}``,
    the shape used by invenio-records-resources error responses.
    """

    def __init__(self, errors, message=None):
        """Keep the list of field errors."""
        self.errors = list(errors)
        if message is None:
            fields = ", ".join(error["field"] for error in self.errors)
            message = f"Invalid workflow params: {fields}."
        super().__init__(message)

# SPDX-License-Identifier: MIT
"""Turning service errors and bad arguments into one-line CLI errors."""

import json
import uuid
from contextlib import contextmanager

import click
from invenio_pidstore.errors import PIDDoesNotExistError
from invenio_records_resources.services.errors import PermissionDeniedError
from invenio_search.engine import search
from kombu.exceptions import OperationalError as BrokerError
from marshmallow import ValidationError

from ..definitions import DefinitionError
from ..engine.errors import WorkflowStateError

_PID_TYPES = {"wflow": "workflow", "wftask": "task"}


class CLIError(click.ClickException):
    """A click error whose message is always a single line."""

    def __init__(self, message):
        """Collapse ``message`` onto one line."""
        super().__init__(" ".join(str(message).split()))


def validation_messages(messages, prefix=""):
    """Flatten marshmallow error messages into ``field: message`` strings."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            key = "" if key == "_schema" else str(key)
            field = f"{prefix}.{key}" if prefix and key else prefix or key
            yield from validation_messages(value, field)
    elif isinstance(messages, (list, tuple)):
        for value in messages:
            yield from validation_messages(value, prefix)
    else:
        yield f"{prefix}: {messages}" if prefix else str(messages)


def _missing_pid_message(error):
    what = _PID_TYPES.get(error.pid_type, "record")
    value = error.pid_value
    try:
        uuid.UUID(str(value))
    except ValueError:
        return f"Malformed {what} id {value!r}: expected a UUID."
    return f"No {what} with id {value!r}."


@contextmanager
def cli_errors():
    """Report the errors of a service call as ``Error: ...`` and exit 1."""
    try:
        yield
    except click.ClickException:
        raise
    except PIDDoesNotExistError as error:
        raise CLIError(_missing_pid_message(error))
    except ValidationError as error:
        raise CLIError("; ".join(validation_messages(error.messages)))
    except WorkflowStateError as error:
        raise CLIError(error.description)
    except PermissionDeniedError:
        raise CLIError("Permission denied.")
    except DefinitionError as error:
        raise CLIError(str(error))
    except BrokerError as error:
        raise CLIError(
            "Saved, but the Celery broker could not be reached to send or "
            f"revoke tasks: {error}"
        )
    except search.exceptions.NotFoundError as error:
        raise CLIError(
            f"Search index missing ({_search_reason(error)}): "
            "run `invenio workflows reindex`."
        )
    except search.exceptions.ConnectionError as error:
        raise CLIError(f"Cannot reach the search cluster: {_search_reason(error)}")
    except search.exceptions.TransportError as error:
        raise CLIError(f"Search failed: {_search_reason(error)}")


def _search_reason(error):
    info = getattr(error, "info", None)
    if isinstance(info, dict):
        reason = info.get("error", {})
        if isinstance(reason, dict):
            return reason.get("reason") or reason.get("type") or str(error)
    return getattr(error, "error", None) or str(error)


def parse_params(values):
    """``k=v`` strings as a dict; values parsed as JSON when they parse.

    ``dpi=300`` gives ``{"dpi": 300}``, ``file_id=abc`` gives
    ``{"file_id": "abc"}``; a later key wins over an earlier one.
    """
    params = {}
    for item in values or ():
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CLIError(f"Invalid --param {item!r}: expected key=value.")
        try:
            params[key] = json.loads(raw, parse_constant=_no_constant)
        except ValueError:
            params[key] = raw
    return params


def _no_constant(name):
    # NaN and Infinity are not JSON: keep such values as strings.
    raise ValueError(name)


def parse_subject(value):
    """``type:id`` as ``{"type": ..., "id": ...}`` (``None`` stays ``None``)."""
    if value is None:
        return None
    subject_type, sep, subject_id = value.partition(":")
    if not sep or not subject_type or not subject_id:
        raise CLIError(
            f"Invalid --subject {value!r}: expected type:id, e.g. record:abcd-1234."
        )
    return {"type": subject_type, "id": subject_id}

# SPDX-License-Identifier: MIT
"""Error handling shared by the workflow resources."""

from flask import g, request
from flask_resources import HTTPJSONException, create_error_handler
from invenio_records_resources.resources.errors import ErrorHandlersMixin
from invenio_records_resources.services.errors import (
    PermissionDeniedError,
    RecordPermissionDeniedError,
)
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge

from ..engine.errors import WorkflowStateError


def _permission_denied(error):
    """401 for an anonymous caller, 403 for a logged-in one."""
    identity = getattr(g, "identity", None)
    if identity is None or identity.id is None:
        return HTTPJSONException(code=401, description="Authentication required.")
    return HTTPJSONException(code=403, description="Permission denied.")


class DatabaseUnavailable(HTTPJSONException):
    """503: the database cannot be reached; the client may retry later."""

    def __init__(self, retry_after):
        """A 503 answer asking to retry after ``retry_after`` seconds."""
        super().__init__(
            code=503,
            description="The database is unreachable; try again shortly.",
        )
        self.retry_after = retry_after

    def get_headers(self, environ=None, scope=None):
        """JSON headers plus ``Retry-After``."""
        return super().get_headers(environ, scope) + [
            ("Retry-After", str(self.retry_after))
        ]


def _database_error(error):
    """503 when the database is unreachable; other database errors stay 500."""
    from flask import current_app

    from ..engine.transactions import is_retryable

    try:
        from invenio_db import db

        db.session.rollback()
    except Exception:
        pass
    if isinstance(error, DBAPIError) and not is_retryable(error):
        raise error
    current_app.logger.warning("Database unreachable: %s", error)
    return DatabaseUnavailable(retry_after=5)


class InvalidRequestBodyError(HTTPJSONException):
    """400: the request body is not JSON that this API can accept."""

    code = 400

    def __init__(self, description, errors=None):
        """A 400 answer with ``description`` and optional field ``errors``."""
        super().__init__(code=400, description=description, errors=errors)


def _rollback():
    """Roll the session back, so that a failed request leaves nothing behind."""
    try:
        from invenio_db import db

        db.session.rollback()
    except Exception:
        pass


def _bad_input(description):
    """An error handler answering 400 with ``description``, after a rollback.

    A safety net for errors that only client input should cause but that
    escaped the strict body parser (see ``parsers.py``).
    """

    def handler(error):
        from flask import current_app

        _rollback()
        current_app.logger.warning("Bad input reached the service: %r", error)
        return HTTPJSONException(code=400, description=description)

    return handler


class WorkflowErrorHandlersMixin(ErrorHandlersMixin):
    """Records-resources error handlers plus the ones of this module."""

    error_handlers = {
        **ErrorHandlersMixin.error_handlers,
        PermissionDeniedError: create_error_handler(_permission_denied),
        RecordPermissionDeniedError: create_error_handler(_permission_denied),
        WorkflowStateError: create_error_handler(
            lambda e: HTTPJSONException(code=409, description=e.description)
        ),
        StaleDataError: create_error_handler(
            HTTPJSONException(
                code=409,
                description="The workflow changed meanwhile; try again.",
            )
        ),
        OperationalError: create_error_handler(_database_error),
        DisconnectionError: create_error_handler(_database_error),
        RecursionError: create_error_handler(
            _bad_input("The request is nested too deeply to be processed.")
        ),
        UnicodeDecodeError: create_error_handler(
            _bad_input("The request is not valid UTF-8.")
        ),
        RequestEntityTooLarge: create_error_handler(
            lambda e: HTTPJSONException(
                code=413, description="The request body is too large."
            )
        ),
    }


def limit_request_body(max_bytes_config_key):
    """A ``before_request`` hook refusing bodies over the configured size (413).

    It checks the declared length first and also caps how much Werkzeug will
    read, so a chunked body without a length is refused as well.
    """

    def check():
        from flask import current_app

        limit = current_app.config[max_bytes_config_key]
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()

    return check

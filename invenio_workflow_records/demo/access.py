# SPDX-License-Identifier: MIT
"""The demo's API user: a workflow administrator with a personal access token.

The demo policy lets anybody read, but only administrators act. So that a
newcomer can also create and start a workflow over REST, the demo creates a
user who is granted the module's ``workflows-admin`` action and gives it a
personal access token (``invenio-oauth2server``, as any Invenio API client
would use), sent as ``Authorization: Bearer <token>``.
"""

import json
import secrets
import shlex
from dataclasses import dataclass
from datetime import datetime, timezone

from invenio_access.models import ActionUsers
from invenio_accounts.proxies import current_datastore
from invenio_db import db

from ..services.permissions import workflows_admin_action

DEMO_EMAIL = "demo@example.org"
"""Email of the demo's API user."""

TOKEN_NAME = "invenio-workflow-records demo"
"""Name of the demo user's personal access token."""

EXAMPLE_BODY = {
    "name": "pdf-plots",
    "params": {"file_id": "my-paper.pdf"},
    "start": True,
}
"""What the printed ``curl`` line sends: create ``pdf-plots`` and start it."""


@dataclass
class ApiUser:
    """The demo's API user: its email, id and personal access token."""

    email: str
    user_id: int
    token: str


def create_api_user(email=DEMO_EMAIL):
    """Create the demo's API user, make it a workflow administrator, give it a token.

    Needs an application context; commits. The user has a random password
    that nobody knows: the token is the way in.
    """
    Token = _token_model()
    try:
        user = current_datastore.create_user(
            email=email,
            password=secrets.token_urlsafe(24),
            active=True,
            confirmed_at=datetime.now(timezone.utc).replace(tzinfo=None),
        )
        db.session.flush()
        db.session.add(ActionUsers.allow(workflows_admin_action, user=user))
        token = Token.create_personal(TOKEN_NAME, user.id, scopes=[], is_internal=False)
        db.session.commit()
        return ApiUser(email=email, user_id=user.id, token=token.access_token)
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


def _token_model():
    """invenio-oauth2server's ``Token``, or a clear error without the package."""
    try:
        from invenio_oauth2server.models import Token
    except ImportError as error:
        from .services import DemoError

        raise DemoError(
            f"the demo's API token needs invenio-oauth2server ({error}): "
            'pip install -e ".[demo]"'
        ) from None
    return Token


def curl_create_line(api_url, token, body=None):
    """The ``curl`` command line that creates and starts a workflow with ``token``."""
    payload = json.dumps(EXAMPLE_BODY if body is None else body)
    return " ".join(
        [
            "curl -X POST",
            "-H " + shlex.quote(f"Authorization: Bearer {token}"),
            "-H " + shlex.quote("Content-Type: application/json"),
            "-d " + shlex.quote(payload),
            f"{api_url}/workflows",
        ]
    )


def parse_curl_line(line):
    """``(method, url, headers, body)`` of a ``curl`` line made like ours.

    Understands ``-X``, ``-H`` and ``-d`` (and their long forms): enough to
    send the printed line again without ``curl``.
    """
    words = shlex.split(line)
    if not words or words[0] != "curl":
        raise ValueError(f"not a curl command: {line!r}")
    method, url, headers, body = "GET", None, {}, None
    words = iter(words[1:])
    for word in words:
        if word in ("-X", "--request"):
            method = next(words)
        elif word in ("-H", "--header"):
            name, _, value = next(words).partition(":")
            headers[name.strip()] = value.strip()
        elif word in ("-d", "--data", "--data-raw"):
            body = next(words).encode()
            if method == "GET":
                method = "POST"
        elif word.startswith("-"):
            raise ValueError(f"unexpected curl option {word!r}")
        else:
            url = word
    if url is None:
        raise ValueError(f"no URL in {line!r}")
    return method, url, headers, body


def create_ui_user(email, password, workflows_admin=True):
    """A user who may open the admin pages; with ``workflows_admin``, act too.

    Grants invenio-administration's ``administration-access`` action (the
    pages) and, unless ``workflows_admin`` is false, the module's
    ``workflows-admin`` action (every workflow, every button). Needs an
    application context; commits; returns the user's id.
    """
    from flask_security.utils import hash_password
    from invenio_access import action_factory

    administration_access = action_factory("administration-access")
    try:
        user = current_datastore.create_user(
            email=email,
            password=hash_password(password),
            active=True,
            confirmed_at=datetime.now(timezone.utc).replace(tzinfo=None),
        )
        db.session.flush()
        db.session.add(ActionUsers.allow(administration_access, user=user))
        if workflows_admin:
            db.session.add(ActionUsers.allow(workflows_admin_action, user=user))
        db.session.commit()
        return user.id
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()

# SPDX-License-Identifier: MIT
"""Timestamps stored on the records."""

from datetime import datetime, timezone


def now():
    """The current UTC time in ISO 8601, as the JSON schemas expect."""
    return datetime.now(timezone.utc).isoformat()

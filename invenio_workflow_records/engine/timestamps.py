# SPDX-License-Identifier: MIT
"""Timestamps stored on the records."""

from datetime import datetime, timezone


def now():
    """The current UTC time in ISO 8601, as the JSON schemas expect."""
    return datetime.now(timezone.utc).isoformat()


def seconds_between(start, end):
    """Seconds from ``start`` to ``end`` (ISO 8601 texts), or None if one is missing."""
    if not start or not end:
        return None
    elapsed = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return round(elapsed.total_seconds(), 3)

# SPDX-License-Identifier: MIT
"""Terminal output of the ``invenio workflows`` commands: tables and words."""

import json
from datetime import datetime, timezone

import click

STATUS_COLOURS = {
    "created": "cyan",
    "pending": None,
    "queued": "blue",
    "running": "yellow",
    "retrying": "yellow",
    "succeeded": "green",
    "failed": "red",
    "stopped": "magenta",
    "skipped": "magenta",
    "broken": "red",
}
"""Colour of each status word on a terminal (``None``: the default colour)."""

TASK_STATUS_ORDER = [
    "succeeded",
    "failed",
    "running",
    "retrying",
    "queued",
    "pending",
    "stopped",
    "skipped",
]
"""Order of the statuses in a compact summary of task counts."""


def echo_json(data):
    """Print ``data`` as plain, indented JSON."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str), color=False)


def style_status(status):
    """A status word in its colour.

    ``click.echo`` strips the colour when the output is not a terminal.
    """
    colour = STATUS_COLOURS.get(status)
    return click.style(status, fg=colour) if colour else status


def one_line(text, width=None):
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    if text is None:
        return ""
    text = " ".join(str(text).split())
    if width is not None and len(text) > width:
        text = text[: max(width - 1, 0)] + "…"
    return text


def timestamp(value):
    """An ISO 8601 timestamp as ``YYYY-MM-DD HH:MM:SS`` (UTC), or ``-``."""
    moment = parse_timestamp(value)
    if moment is None:
        return "-" if not value else str(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def parse_timestamp(value):
    """An aware UTC datetime from an ISO 8601 string, or ``None``."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def duration(started, finished):
    """How long from ``started`` to ``finished``, e.g. ``0.4s``, ``3m 05s``."""
    start, end = parse_timestamp(started), parse_timestamp(finished)
    if start is None or end is None:
        return "-"
    seconds = max((end - start).total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def task_summary(counts):
    """Task counts in a few words: ``3/5 succeeded, 1 failed, 1 skipped``."""
    counts = {status: n for status, n in (counts or {}).items() if n}
    total = sum(counts.values())
    if not total:
        return "no tasks"
    words = [f"{counts.get('succeeded', 0)}/{total} succeeded"]
    for status in TASK_STATUS_ORDER[1:]:
        if counts.get(status):
            words.append(f"{counts[status]} {status}")
    for status in sorted(set(counts) - set(TASK_STATUS_ORDER)):
        words.append(f"{counts[status]} {status}")
    return ", ".join(words)


def owner_text(owner):
    """``system``, ``user <id>`` or ``anonymous`` (an owner or an actor)."""
    owner = owner or {}
    if owner.get("system"):
        return "system"
    if owner.get("user") is not None:
        return f"user {owner['user']}"
    if owner.get("anonymous"):
        return "anonymous"
    return "-"


def short_name(task):
    """A task's name without its module: ``import_record``."""
    name = task.get("short_name") or task.get("name") or ""
    return name.rsplit(".", 1)[-1]


def error_text(error):
    """A task error as ``Type: message``."""
    if not error:
        return ""
    return f"{error.get('type') or 'Error'}: {error.get('message') or ''}"


def progress_text(progress):
    """A task's progress as ``3/10 message`` (empty without progress)."""
    if not progress:
        return ""
    words = []
    if progress.get("current") is not None:
        total = progress.get("total")
        words.append(
            f"{progress['current']}/{total}"
            if total is not None
            else str(progress["current"])
        )
    if progress.get("message"):
        words.append(str(progress["message"]))
    return " ".join(words)


def echo_error(error, with_traceback=True):
    """Print a task error: ``Type: message``, then its traceback, indented."""
    first, *more = error_text(error).splitlines() or [""]
    click.echo("  " + click.style(first, fg="red"))
    for line in more:
        click.echo("  " + line)
    trace = (error.get("traceback") or "").rstrip()
    if with_traceback and trace:
        for line in trace.splitlines():
            click.echo("    " + line)


def subject_text(subject):
    """A subject as ``type:id``, or ``-``."""
    if not subject:
        return "-"
    return f"{subject.get('type')}:{subject.get('id')}"


def echo_table(headers, rows, status_column=None):
    """Print ``rows`` as columns aligned under ``headers``.

    Cells are strings; the cells of ``status_column`` (an index) are
    coloured by their status word. The last column is not padded.
    """
    rows = [["" if cell is None else str(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    last = len(headers) - 1

    def line(cells, styled):
        parts = []
        for index, cell in enumerate(cells):
            text = style_status(cell) if styled and index == status_column else cell
            if index != last:
                text += " " * (widths[index] - len(cell))
            parts.append(text)
        return "  ".join(parts).rstrip()

    click.echo(click.style(line(headers, False), bold=True))
    for row in rows:
        click.echo(line(row, True))


def echo_fields(pairs):
    """Print ``(label, value)`` pairs with the values aligned."""
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        click.echo(f"{click.style(label.ljust(width), bold=True)}  {value}")

# SPDX-License-Identifier: MIT
"""``invenio workflows`` commands that list, show and act on workflow runs."""

import json

import click
from flask.cli import with_appcontext
from invenio_access.permissions import system_identity

from ..engine.status import WORKFLOW_STATUSES
from ..proxies import (
    current_definitions,
    current_tasks_service,
    current_workflows_service,
)
from .errors import cli_errors, parse_params, parse_subject
from .output import (
    duration,
    echo_fields,
    echo_json,
    echo_table,
    one_line,
    owner_text,
    style_status,
    subject_text,
    task_summary,
    timestamp,
)

SORT_OPTIONS = ["newest", "oldest", "updated", "name", "bestmatch"]

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of a table."
)
param_option = click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A param of the run; the value is parsed as JSON when it parses "
    "(dpi=300 is a number), else taken as a string. Repeatable.",
)


def describe_definition(name):
    """What the CLI shows of one registered definition (never raises)."""
    info = {
        "name": name,
        "title": None,
        "kind": None,
        "tasks": None,
        "params_schema": None,
        "default_params": None,
        "error": None,
    }
    try:
        definition = current_definitions.get(name)
        info["title"] = definition.title
        info["kind"] = "class" if definition.workflow_class else "canvas"
        info["params_schema"] = definition.params_schema
        info["default_params"] = definition.default_params
        info["tasks"] = len(definition.plan())
    except Exception as error:  # a broken definition is listed, not raised
        info["error"] = f"{type(error).__name__}: {error}"
    return info


@click.command("definitions")
@json_option
@with_appcontext
def definitions(as_json):
    """List the registered workflow definitions."""
    infos = [describe_definition(name) for name in current_definitions.names()]
    if as_json:
        echo_json(infos)
        return
    if not infos:
        click.echo("No workflow definitions are registered.")
        return
    headers = ["NAME", "TITLE", "KIND", "TASKS", "PARAMS SCHEMA"]
    broken = any(info["error"] for info in infos)
    if broken:
        headers.append("ERROR")
    rows = []
    for info in infos:
        row = [
            info["name"],
            info["title"] or "-",
            "broken" if info["error"] else info["kind"],
            "-" if info["tasks"] is None else str(info["tasks"]),
            "yes" if info["params_schema"] else "no",
        ]
        if broken:
            row.append(one_line(info["error"], 100) if info["error"] else "")
        rows.append(row)
    echo_table(headers, rows, status_column=2)


@click.command("list")
@click.option(
    "--status",
    "-s",
    multiple=True,
    type=click.Choice(WORKFLOW_STATUSES),
    help="Only workflows in this status (repeatable).",
)
@click.option("--name", "-n", multiple=True, help="Only this definition (repeatable).")
@click.option("--subject", metavar="TYPE:ID", help="Only workflows on this subject.")
@click.option("--query", "-q", help="Search query (query string syntax).")
@click.option(
    "--sort",
    type=click.Choice(SORT_OPTIONS),
    default=None,
    help="Sort order (default: newest; best match with a query).",
)
@click.option("--size", type=click.IntRange(1, 1000), default=25, show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@json_option
@with_appcontext
def list_workflows(status, name, subject, query, sort, size, page, as_json):
    """Search workflow runs, like GET /api/workflows."""
    params = {"page": page, "size": size}
    if sort:
        params["sort"] = sort
    if query:
        params["q"] = query
    if subject:
        params["subject"] = subject
    facets = {}
    if status:
        facets["status"] = list(status)
    if name:
        facets["name"] = list(name)
    params["facets"] = facets
    with cli_errors():
        result = current_workflows_service.search(system_identity, params=params)
        data = result.to_dict()
    if as_json:
        echo_json(data)
        return
    hits = data["hits"]["hits"]
    total = data["hits"]["total"]
    if not hits:
        click.echo(
            "No workflows found." if not total else f"No workflows on page {page}."
        )
        return
    rows = [
        [
            hit["id"],
            hit.get("name", ""),
            hit.get("status", ""),
            str(hit.get("run", "")),
            task_summary(hit.get("task_counts")),
            timestamp(hit.get("created")),
            timestamp(hit.get("updated")),
        ]
        for hit in hits
    ]
    echo_table(
        ["ID", "NAME", "STATUS", "RUN", "TASKS", "CREATED", "UPDATED"],
        rows,
        status_column=2,
    )
    first = (page - 1) * size + 1
    click.echo(f"{first}-{first + len(hits) - 1} of {total} (page {page})")


def _read(workflow_id):
    """The workflow and its tasks (in plan order), as dictionaries."""
    with cli_errors():
        workflow = current_workflows_service.read(system_identity, workflow_id)
        tasks = current_tasks_service.list(system_identity, workflow_id)
        return workflow.to_dict(), tasks.to_dict()["hits"]["hits"]


@click.command("show")
@click.argument("workflow_id", metavar="ID")
@json_option
@with_appcontext
def show(workflow_id, as_json):
    """Show a workflow and its tasks."""
    workflow, tasks = _read(workflow_id)
    if as_json:
        echo_json({"workflow": workflow, "tasks": tasks})
        return
    name = workflow.get("name", "")
    title = workflow.get("title")
    if title and title != name:
        name = f"{name} ({title})"
    pairs = [
        ("Workflow", workflow["id"]),
        ("Name", name),
        ("Status", style_status(workflow.get("status", ""))),
        ("Run", workflow.get("run", "")),
        ("Tasks", task_summary(workflow.get("task_counts"))),
        ("Params", one_line(_json(workflow.get("params", {})))),
        ("Subject", subject_text(workflow.get("subject"))),
        ("Owner", owner_text(workflow.get("owner"))),
        ("Created", timestamp(workflow.get("created"))),
        ("Updated", timestamp(workflow.get("updated"))),
        ("Started", timestamp(workflow.get("started_at"))),
        ("Finished", timestamp(workflow.get("finished_at"))),
    ]
    if workflow.get("idempotency_key"):
        pairs.insert(3, ("Key", workflow["idempotency_key"]))
    if workflow.get("message"):
        pairs.append(("Message", one_line(workflow["message"])))
    echo_fields(pairs)
    click.echo()
    if not tasks:
        click.echo("No tasks.")
        return
    rows = [
        [
            task.get("key", ""),
            task.get("name", ""),
            task.get("status", ""),
            str(task.get("attempt", "")),
            str(task.get("retries") or 0),
            timestamp(task.get("started_at")),
            timestamp(task.get("finished_at")),
            duration(task.get("started_at"), task.get("finished_at")),
            one_line(task.get("message") or _error_text(task.get("error")), 60),
        ]
        for task in tasks
    ]
    echo_table(
        [
            "KEY",
            "NAME",
            "STATUS",
            "ATTEMPT",
            "RETRIES",
            "STARTED",
            "FINISHED",
            "DURATION",
            "MESSAGE",
        ],
        rows,
        status_column=2,
    )


def _json(value):
    return json.dumps(value, sort_keys=True, default=str)


def _error_text(error):
    if not error:
        return ""
    return f"{error.get('type', 'Error')}: {error.get('message', '')}"


def _status_of(workflow_id):
    """The workflow's status now (after eager tasks may have run)."""
    with cli_errors():
        return current_workflows_service.read(system_identity, workflow_id).to_dict()


def _echo_result(workflow, as_json, verb):
    if as_json:
        echo_json(workflow)
        return
    click.echo(
        f"{verb} workflow {workflow['id']} ({workflow.get('name')}): "
        + style_status(workflow.get("status", ""))
    )


@click.command("start")
@click.argument("name")
@param_option
@click.option("--subject", metavar="TYPE:ID", help="What the workflow works on.")
@click.option(
    "--idempotency-key",
    help="A second start with the same name and key returns the first workflow.",
)
@json_option
@with_appcontext
def start(name, params, subject, idempotency_key, as_json):
    """Create a workflow run of definition NAME and start it."""
    data = {"name": name, "params": parse_params(params), "start": True}
    subject = parse_subject(subject)
    if subject:
        data["subject"] = subject
    if idempotency_key is not None:
        data["idempotency_key"] = idempotency_key
    with cli_errors():
        item = current_workflows_service.create(system_identity, data)
    workflow = _status_of(item.id)
    _echo_result(workflow, as_json, "Started" if item.created else "Existing")


@click.command("stop")
@click.argument("workflow_id", metavar="ID")
@json_option
@with_appcontext
def stop(workflow_id, as_json):
    """Stop a running workflow."""
    with cli_errors():
        item = current_workflows_service.stop(system_identity, workflow_id)
    _echo_result(_status_of(item.id), as_json, "Stopped")


@click.command("restart")
@click.argument("workflow_id", metavar="ID")
@param_option
@json_option
@with_appcontext
def restart(workflow_id, params, as_json):
    """Run a whole workflow again (default params overlaid with --param)."""
    data = {"params": parse_params(params)}
    with cli_errors():
        item = current_workflows_service.restart(system_identity, workflow_id, data)
    _echo_result(_status_of(item.id), as_json, "Restarted")


@click.command("resume")
@click.argument("workflow_id", metavar="ID")
@param_option
@json_option
@with_appcontext
def resume(workflow_id, params, as_json):
    """Run again the tasks of a workflow that did not succeed."""
    data = {"params": parse_params(params)}
    with cli_errors():
        item = current_workflows_service.resume(system_identity, workflow_id, data)
    _echo_result(_status_of(item.id), as_json, "Resumed")

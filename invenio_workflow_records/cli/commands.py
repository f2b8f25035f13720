# SPDX-License-Identifier: MIT
"""``invenio workflows`` commands that list, show and act on workflows and tasks."""

import json
import uuid

import click
from flask.cli import with_appcontext
from invenio_access.permissions import system_identity

from ..definitions import DefinitionError
from ..engine.status import TASK_STATUSES, WORKFLOW_STATUSES
from ..proxies import (
    current_definitions,
    current_tasks_service,
    current_workflows_service,
)
from .errors import CLIError, cli_errors, parse_params, parse_subject
from .output import (
    duration,
    echo_error,
    echo_fields,
    echo_json,
    echo_table,
    error_text,
    one_line,
    owner_text,
    progress_text,
    short_name,
    style_status,
    subject_text,
    task_summary,
    timestamp,
)

SORT_OPTIONS = ["newest", "oldest", "updated", "name", "duration", "bestmatch"]

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of a table."
)
param_option = click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A param of the run, repeatable. The value is read as JSON: dpi=300 "
    'is a number, draft=true a boolean, \'ids=["a", "b"]\' a list; a value '
    "that is not JSON (file_id=abc) is a string. To force a string, quote it as "
    "JSON: -p 'name=\"123\"'.",
)


query_option = click.option("--query", "-q", help="Search query (query string syntax).")
size_option = click.option(
    "--size", type=click.IntRange(1, 1000), default=25, show_default=True
)
page_option = click.option(
    "--page", type=click.IntRange(min=1), default=1, show_default=True
)


def sort_option(choices):
    """The ``--sort`` option of a search with these sort orders."""
    return click.option(
        "--sort",
        type=click.Choice(choices),
        default=None,
        help="Sort order (default: newest; best match with a query).",
    )


def search_params(page, size, sort, query, facets, **filters):
    """The ``params`` of a service search from CLI options (empty ones left out)."""
    params = {"page": page, "size": size}
    params.update({key: value for key, value in filters.items() if value})
    if sort:
        params["sort"] = sort
    if query:
        params["q"] = query
    params["facets"] = {key: list(value) for key, value in facets.items() if value}
    return params


def echo_no_hits(what, total, page):
    """Say that a page of results is empty, and why."""
    click.echo(f"No {what} found." if not total else f"No {what} on page {page}.")


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
@query_option
@sort_option(SORT_OPTIONS)
@size_option
@page_option
@json_option
@with_appcontext
def list_workflows(status, name, subject, query, sort, size, page, as_json):
    """Search workflow runs, like GET /api/workflows."""
    params = search_params(
        page, size, sort, query, {"status": status, "name": name}, subject=subject
    )
    with cli_errors():
        result = current_workflows_service.search(system_identity, params=params)
        data = result.to_dict()
    if as_json:
        echo_json(data)
        return
    hits = data["hits"]["hits"]
    total = data["hits"]["total"]
    if not hits:
        echo_no_hits("workflows", total, page)
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
        return workflow.to_dict(), _tasks_of(workflow_id)


def _tasks_of(workflow_id):
    """Every task of a workflow, in plan order, as dictionaries."""
    tasks = current_tasks_service.list(system_identity, workflow_id, size=None)
    return tasks.to_dict()["hits"]["hits"]


@click.command("show")
@click.argument("workflow_id", metavar="ID")
@click.option(
    "--traceback/--no-traceback",
    "with_traceback",
    default=True,
    show_default=True,
    help="Print the traceback of each failed task.",
)
@json_option
@with_appcontext
def show(workflow_id, with_traceback, as_json):
    """Show a workflow, its tasks and the errors of its failed tasks."""
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
    if workflow.get("actor"):
        pairs.append(("Last action", owner_text(workflow["actor"])))
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
            task.get("id", ""),
            short_name(task),
            task.get("status", ""),
            str(task.get("attempt", "")),
            str(task.get("retries") or 0),
            timestamp(task.get("started_at")),
            duration(task.get("started_at"), task.get("finished_at")),
            one_line(_task_message(task), 60),
        ]
        for task in tasks
    ]
    echo_table(
        [
            "KEY",
            "ID",
            "NAME",
            "STATUS",
            "ATTEMPT",
            "RETRIES",
            "STARTED",
            "DURATION",
            "MESSAGE",
        ],
        rows,
        status_column=3,
    )
    for task in tasks:
        if task.get("status") == "failed" and task.get("error"):
            click.echo()
            click.echo(
                f"Task {task.get('key')} ({task.get('name')}) failed "
                f"(attempt {task.get('attempt')}):"
            )
            echo_error(task["error"], with_traceback)


def _json(value):
    return json.dumps(value, sort_keys=True, default=str)


def _task_message(task):
    """What a task's row says: its message, error or progress."""
    if task.get("message"):
        return task["message"]
    if task.get("error"):
        return error_text(task["error"])
    return progress_text(task.get("progress"))


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


# Tasks: one task of a workflow, its actions, and the search of all tasks.

TASK_SORT_OPTIONS = ["newest", "oldest", "updated", "duration", "bestmatch"]

task_argument = click.argument("task", metavar="TASK")
"""A task of the workflow: its id, or its key (the KEY column of ``show``)."""


def resolve_task(workflow_id, task):
    """The id of ``task`` in the workflow: ``task`` is a task id or a key.

    Keys are the ``KEY`` column of ``show`` (``0``, ``1.0``, ...); anything
    that is not a UUID is looked up as a key.
    """
    try:
        uuid.UUID(str(task))
        return str(task)
    except ValueError:
        pass
    with cli_errors():
        tasks = _tasks_of(workflow_id)
    for each in tasks:
        if each.get("key") == task:
            return each["id"]
    keys = ", ".join(each.get("key", "") for each in tasks[:20])
    raise CLIError(
        f"No task with key {task!r} in workflow {workflow_id} "
        f"(TASK is a task id or one of the keys: {keys})."
    )


def _read_task(workflow_id, task_id):
    with cli_errors():
        return current_tasks_service.read(
            system_identity, workflow_id, task_id
        ).to_dict()


@click.command("task-show")
@click.argument("workflow_id", metavar="WORKFLOW_ID")
@task_argument
@json_option
@with_appcontext
def task_show(workflow_id, task, as_json):
    """Show one task: inputs, result, error, traceback.

    Also its progress, worker, timestamps and who acted on it last.

    TASK is the task's id or its key in the workflow (see `show`).
    """
    data = _read_task(workflow_id, resolve_task(workflow_id, task))
    if as_json:
        echo_json(data)
        return
    parents = data.get("parents") or []
    if parents:
        with cli_errors():
            keys = {each["id"]: each.get("key") for each in _tasks_of(workflow_id)}
        parents = [keys.get(str(parent)) or str(parent) for parent in parents]
    pairs = [
        ("Task", data["id"]),
        ("Key", data.get("key", "")),
        ("Name", data.get("name", "")),
        ("Workflow", f"{data.get('workflow_id')} ({data.get('workflow_name', '-')})"),
        ("Status", style_status(data.get("status", ""))),
        ("Run", data.get("run", "")),
        ("Attempt", data.get("attempt", "")),
        ("Retries", data.get("retries") or 0),
        ("Parents", ", ".join(parents) or "-"),
        ("Args", one_line(_json(data.get("args", [])))),
        ("Kwargs", one_line(_json(data.get("kwargs", {})))),
    ]
    if data.get("overrides"):
        pairs.append(("Overrides", one_line(_json(data["overrides"]))))
    pairs += [
        ("Worker", data.get("worker") or "-"),
        ("Queued", timestamp(data.get("queued_at"))),
        ("Started", timestamp(data.get("started_at"))),
        ("Finished", timestamp(data.get("finished_at"))),
        ("Duration", duration(data.get("started_at"), data.get("finished_at"))),
    ]
    if data.get("progress"):
        pairs.append(("Progress", progress_text(data["progress"])))
    if data.get("actor"):
        pairs.append(("Last action", owner_text(data["actor"])))
    if data.get("message"):
        pairs.append(("Message", one_line(data["message"])))
    if "result" in data:
        pairs.append(("Result", one_line(_json(data["result"]), 200)))
    echo_fields(pairs)
    if data.get("error"):
        click.echo()
        click.echo("Error:")
        echo_error(data["error"])


@click.command("task-stop")
@click.argument("workflow_id", metavar="WORKFLOW_ID")
@task_argument
@json_option
@with_appcontext
def task_stop(workflow_id, task, as_json):
    """Stop one task; the tasks that depend on it are skipped.

    TASK is the task's id or its key in the workflow (see `show`).
    """
    task_id = resolve_task(workflow_id, task)
    with cli_errors():
        current_tasks_service.stop(system_identity, workflow_id, task_id)
    data = _read_task(workflow_id, task_id)
    if as_json:
        echo_json(data)
        return
    workflow = _status_of(workflow_id)
    click.echo(
        f"Stopped task {data.get('key')} ({short_name(data)}) {data['id']}: "
        f"{style_status(data.get('status', ''))}; workflow {workflow['id']} is "
        + style_status(workflow.get("status", ""))
    )


@click.command("task-restart")
@click.argument("workflow_id", metavar="WORKFLOW_ID")
@task_argument
@param_option
@click.option(
    "--downstream/--no-downstream",
    default=True,
    show_default=True,
    help="Also run again every task that depends on it.",
)
@click.option(
    "--dry-run", is_flag=True, help="Only list the tasks that would run again."
)
@json_option
@with_appcontext
def task_restart(workflow_id, task, params, downstream, dry_run, as_json):
    """Run one task again, by default with everything downstream of it.

    TASK is the task's id or its key in the workflow (see `show`). --param
    values overlay the run's params for this task only.
    """
    task_id = resolve_task(workflow_id, task)
    data = {
        "params": parse_params(params),
        "downstream": downstream,
        "dry_run": dry_run,
    }
    with cli_errors():
        result = current_tasks_service.restart(
            system_identity, workflow_id, task_id, data
        )
    if as_json:
        echo_json(result)
        return
    with cli_errors():
        by_id = {each["id"]: each for each in _tasks_of(workflow_id)}
    affected = [by_id.get(str(each), {"id": str(each)}) for each in result["tasks"]]
    count = len(affected)
    noun = "task" if count == 1 else "tasks"
    if dry_run:
        click.echo(f"Dry run: would run {count} {noun} again, nothing changed:")
    else:
        workflow = _status_of(workflow_id)
        click.echo(
            f"Restarted {count} {noun} of workflow {workflow['id']} "
            f"({workflow.get('name')}): " + style_status(workflow.get("status", ""))
        )
    echo_table(
        ["KEY", "ID", "NAME", "STATUS"],
        [
            [each.get("key", "?"), each["id"], short_name(each), each.get("status", "")]
            for each in affected
        ],
        status_column=3,
    )


def expand_task_names(names):
    """Full Celery names for ``--name`` values given short or in full.

    ``import_record`` matches every task of the registered definitions whose
    name ends with ``.import_record``; a name that matches none is kept as
    given.
    """
    known = set()
    for name in current_definitions.names():
        try:
            known.update(node.task for node in current_definitions.get(name).plan())
        except DefinitionError:  # a broken definition has no tasks to offer
            continue
    expanded = []
    for name in names:
        matches = sorted(
            full for full in known if full == name or full.endswith(f".{name}")
        )
        for full in matches or [name]:
            if full not in expanded:
                expanded.append(full)
    return expanded


@click.command("tasks")
@click.option(
    "--status",
    "-s",
    multiple=True,
    type=click.Choice(TASK_STATUSES),
    help="Only tasks in this status (repeatable).",
)
@click.option(
    "--name",
    "-n",
    multiple=True,
    help="Only this task, by its function name (import_record) or full "
    "Celery name (repeatable).",
)
@click.option(
    "--workflow",
    "-w",
    "workflow_ids",
    multiple=True,
    metavar="ID",
    help="Only the tasks of this workflow (repeatable).",
)
@query_option
@sort_option(TASK_SORT_OPTIONS)
@size_option
@page_option
@json_option
@with_appcontext
def search_tasks(status, name, workflow_ids, query, sort, size, page, as_json):
    """Search the tasks of all workflows, like GET /api/tasks."""
    with cli_errors():
        names = expand_task_names(name) if name else ()
        params = search_params(
            page,
            size,
            sort,
            query,
            {"status": status, "name": names},
            workflow_id=list(workflow_ids),
        )
        data = current_tasks_service.search(system_identity, params=params).to_dict()
    if as_json:
        echo_json(data)
        return
    hits = data["hits"]["hits"]
    total = data["hits"]["total"]
    if not hits:
        echo_no_hits("tasks", total, page)
        return
    rows = [
        [
            hit["id"],
            str(hit.get("workflow_id", "")),
            hit.get("workflow_name") or "-",
            hit.get("key", ""),
            short_name(hit),
            hit.get("status", ""),
            str(hit.get("attempt", "")),
            timestamp(hit.get("updated")),
            one_line(_task_message(hit), 60),
        ]
        for hit in hits
    ]
    echo_table(
        [
            "ID",
            "WORKFLOW ID",
            "WORKFLOW",
            "KEY",
            "NAME",
            "STATUS",
            "ATTEMPT",
            "UPDATED",
            "MESSAGE",
        ],
        rows,
        status_column=5,
    )
    first = (page - 1) * size + 1
    click.echo(f"{first}-{first + len(hits) - 1} of {total} (page {page})")


@click.command("history")
@click.argument("workflow_id", metavar="WORKFLOW_ID")
@click.argument("task", metavar="[TASK]", required=False)
@click.option("--size", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@json_option
@with_appcontext
def history(workflow_id, task, size, page, as_json):
    """The history of a workflow, or of one of its tasks.

    Its revisions, newest first. Every task transition is a task revision;
    a workflow gets one on each action (create, start, stop, restart,
    resume) and each change of its status. TASK is the task's id or its key
    in the workflow (see `show`).
    """
    task_id = resolve_task(workflow_id, task) if task is not None else None
    with cli_errors():
        if task_id is None:
            result = current_workflows_service.read_revisions(
                system_identity, workflow_id, page=page, size=size
            )
        else:
            result = current_tasks_service.read_revisions(
                system_identity, workflow_id, task_id, page=page, size=size
            )
        data = result.to_dict()
    if as_json:
        echo_json(data)
        return
    hits = data["hits"]["hits"]
    total = data["hits"]["total"]
    if not hits:
        click.echo("No revisions." if not total else f"No revisions on page {page}.")
        return
    with_actor = any(hit.get("actor") for hit in hits)
    headers = ["REVISION", "TIME", "STATUS", "RUN"]
    headers += ["ATTEMPT"] if task_id else ["TASKS"]
    headers += ["ACTOR"] if with_actor else []
    headers += ["MESSAGE"]
    rows = []
    for hit in hits:
        row = [
            str(hit.get("revision_id", "")),
            timestamp(hit.get("updated")),
            hit.get("status", ""),
            str(hit.get("run", "")),
        ]
        if task_id:
            row.append(str(hit.get("attempt", "")))
        else:
            row.append(task_summary(hit.get("task_counts")))
        if with_actor:
            row.append(owner_text(hit.get("actor")))
        row.append(one_line(_task_message(hit), 80))
        rows.append(row)
    echo_table(headers, rows, status_column=2)
    first = (page - 1) * size + 1
    click.echo(
        f"{first}-{first + len(hits) - 1} of {total} revisions (newest first, "
        f"page {page})"
    )

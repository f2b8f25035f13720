# SPDX-License-Identifier: MIT
"""The ``invenio workflows`` command line."""

import json
import re
import uuid
from importlib.metadata import entry_points

import click
import pytest
from invenio_search import current_search, current_search_client
from invenio_search.utils import build_alias_name

from invenio_workflow_records.cli import workflows
from invenio_workflow_records.records import TaskRecord, WorkflowRecord
from invenio_workflow_records.records.models import WorkflowMetadata

WORKFLOW_INDEX = WorkflowRecord.index._name


@pytest.fixture(scope="module")
def app_config(app_config):
    """Add a definition that cannot be imported."""
    app_config["WORKFLOWS_DEFINITIONS"] = {
        **app_config["WORKFLOWS_DEFINITIONS"],
        "broken": {"workflow_definition": "tests.mock_module.nowhere:canvas"},
    }
    return app_config


@pytest.fixture()
def cli(app, db, search_clear):
    """Run ``invenio workflows ARGS...`` in the test application."""
    runner = app.test_cli_runner()

    def _invoke(*args):
        return runner.invoke(workflows, [str(arg) for arg in args])

    return _invoke


def ok(result):
    """Assert success; return the standard output."""
    assert result.exit_code == 0, (result.output, result.exception)
    assert "\x1b[" not in result.output  # no colours outside a terminal
    return result.stdout


def as_json(result):
    """Assert success; return the standard output parsed as JSON."""
    return json.loads(ok(result))


def assert_error(result, *words):
    """A one-line ``Error: ...`` on stderr, a non-zero exit, no traceback."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: "), lines
    for word in words:
        assert word in lines[0]
    return lines[0]


def assert_aligned(table):
    """Every cell of a table starts where its column header starts."""
    header, *rows = table
    starts = [match.start() for match in re.finditer(r"(?<=  )\S", header)]
    assert starts
    for row in rows:
        for start in starts:
            if len(row) > start:
                assert row[start - 2 : start] == "  ", (row, start)
                assert row[start] != " ", (row, start)


def refresh():
    """Make the indexed workflows and tasks searchable."""
    current_search.flush_and_refresh("workflows")


def test_entry_point_is_the_group():
    (entry_point,) = [
        ep for ep in entry_points(group="flask.commands") if ep.name == "workflows"
    ]
    assert entry_point.load() is workflows


def test_definitions_table_shows_broken_ones(cli):
    out = ok(cli("definitions"))
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["NAME"].split()[:3] == ["NAME", "TITLE", "KIND"]
    assert "ERROR" in lines["NAME"]
    pdf = lines["pdf-plots"]
    assert "PDF plot extraction" in pdf
    assert pdf.split()[-3:] == ["class", "4", "yes"]
    assert lines["sums"].split()[1:] == ["Sums", "canvas", "2", "no"]
    assert "broken" in lines["broken"]
    assert "nowhere" in lines["broken"]
    assert_aligned(out.splitlines())


def test_definitions_json(cli):
    data = {d["name"]: d for d in as_json(cli("definitions", "--json"))}
    assert data["pdf-plots"]["kind"] == "class"
    assert data["pdf-plots"]["tasks"] == 4
    assert data["pdf-plots"]["params_schema"]["required"] == ["file_id"]
    assert data["pdf-plots"]["default_params"] == {"dpi": 300}
    assert data["params-probe"]["default_params"] == {"colour": "blue", "size": 3}
    assert data["sums"]["params_schema"] is None
    assert data["sums"]["error"] is None
    assert data["broken"]["kind"] is None
    assert "tests.mock_module.nowhere" in data["broken"]["error"]


def test_start_then_show(cli):
    out = ok(cli("start", "sums"))
    match = re.fullmatch(r"Started workflow (\S+) \(sums\): succeeded\n", out)
    assert match, out
    workflow_id = match.group(1)

    out = ok(cli("show", workflow_id))
    fields = dict(
        line.split(None, 1) for line in out.split("\n\n")[0].splitlines() if line
    )
    assert fields["Workflow"] == workflow_id
    assert fields["Name"] == "sums (Sums)"
    assert fields["Status"] == "succeeded"
    assert fields["Run"] == "1"
    assert fields["Tasks"] == "2/2 succeeded"
    assert fields["Owner"] == "system"
    assert fields["Params"] == "{}"
    assert fields["Finished"] != "-"
    table = out.split("\n\n")[1].splitlines()
    assert table[0].split() == [
        "KEY",
        "ID",
        "NAME",
        "STATUS",
        "ATTEMPT",
        "RETRIES",
        "STARTED",
        "DURATION",
        "MESSAGE",
    ]
    assert_aligned(table)
    rows = [line.split() for line in table[1:]]
    data = as_json(cli("show", workflow_id, "--json"))
    assert [row[0] for row in rows] == ["0", "1"]  # plan order
    assert [row[1] for row in rows] == [t["id"] for t in data["tasks"]]
    assert {row[2] for row in rows} == {"add"}
    assert [row[3:6] for row in rows] == [["succeeded", "1", "0"]] * 2
    assert all(re.fullmatch(r"\d+\.\ds", row[8]) for row in rows)
    assert data["workflow"]["status"] == "succeeded"
    assert [t["result"] for t in data["tasks"]] == [3, 13]


def test_start_parses_params_subject_and_key(cli):
    args = ["start", "pdf-plots", "--param", "file_id=abc", "-p", "dpi=150"]
    args += ["--subject", "record:abcd-1234", "--idempotency-key", "k-1", "--json"]
    first = as_json(cli(*args))
    assert first["params"] == {"file_id": "abc", "dpi": 150}
    assert first["subject"] == {"type": "record", "id": "abcd-1234"}
    assert first["idempotency_key"] == "k-1"
    assert first["status"] == "succeeded"
    assert first["task_counts"] == {"succeeded": 4}

    again = ok(cli(*args[:-1]))
    assert again.startswith(f"Existing workflow {first['id']} (pdf-plots)")
    assert WorkflowMetadata.query.filter_by(name="pdf-plots").count() == 1

    probe = as_json(
        cli("start", "params-probe", "-p", 'flag="300"', "-p", "l=[1, 2]", "--json")
    )
    assert probe["params"] == {
        "colour": "blue",
        "size": 3,
        "flag": "300",
        "l": [1, 2],
    }


@pytest.mark.parametrize(
    "args, words",
    [
        (["start", "nope"], ["Unknown workflow 'nope'"]),
        (["start", "pdf-plots", "--param", "dpi=10"], ["params.dpi", "file_id"]),
        (["start", "sums", "--param", "dpi"], ["--param 'dpi'", "key=value"]),
        (["start", "sums", "--param", "=3"], ["key=value"]),
        (["start", "sums", "--subject", "record"], ["--subject", "type:id"]),
        (["start", "broken"], ["broken", "nowhere"]),
        (["show", str(uuid.UUID(int=1))], ["No workflow with id"]),
        (["show", "not-a-uuid"], ["Malformed workflow id 'not-a-uuid'"]),
        (["stop", str(uuid.UUID(int=1))], ["No workflow with id"]),
        (["restart", "xyz"], ["Malformed workflow id"]),
        (["resume", str(uuid.UUID(int=2))], ["No workflow with id"]),
        (["list", "--subject", "nocolon"], ["subject", "type:id"]),
        (["list", "--page", "10000", "--size", "1000"], ["pagination"]),
    ],
)
def test_errors_are_one_line(cli, args, words):
    assert_error(cli(*args), *words)


def test_actions_not_allowed_are_one_line(cli, create_workflow):
    created = create_workflow(name="sums", params={})
    assert_error(cli("restart", created.id), "never started")
    assert_error(cli("resume", created.id), "only a failed or stopped")
    assert_error(cli("stop", created.id), "only a running")
    finished = create_workflow(name="sums", params={}, start=True)
    assert_error(cli("stop", finished.id), "succeeded", "only a running")
    assert_error(cli("restart", finished.id, "--param", "nope"), "key=value")


def test_stop_resume_restart(cli, create_workflow, monkeypatch):
    # Nothing reaches Celery: the started workflow stays running.
    monkeypatch.setattr(
        "invenio_workflow_records.engine.dispatch.SendTaskOp.on_post_commit",
        lambda self, uow: None,
    )
    revoked = []
    monkeypatch.setattr(
        "invenio_records_resources.services.uow.TaskRevokeOp.on_post_commit",
        lambda self, uow: revoked.append(self.task_id),
    )
    workflow_id = create_workflow(name="sums", params={}, start=True).id
    assert ok(cli("show", workflow_id)).count("running") == 1
    out = ok(cli("stop", workflow_id))
    assert out == f"Stopped workflow {workflow_id} (sums): stopped\n"
    assert "Stopped by a user." in ok(cli("show", workflow_id))
    # The root was only queued: its message is fenced, no revoke is needed.
    assert revoked == []
    statuses = [t["status"] for t in TaskRecord.get_workflow_tasks(workflow_id)]
    assert statuses == ["stopped", "stopped"]

    monkeypatch.undo()
    out = ok(cli("resume", workflow_id))
    assert out == f"Resumed workflow {workflow_id} (sums): succeeded\n"

    data = as_json(cli("restart", workflow_id, "--json"))
    assert (data["status"], data["run"]) == ("succeeded", 2)


def test_restart_and_resume_take_params(cli, create_workflow):
    item = create_workflow(name="failing", params={}, start=True)
    out = ok(cli("resume", item.id, "--param", "extra=1"))
    assert out.endswith(": failed\n")
    show = ok(cli("show", item.id))
    assert "boom" in show
    assert '"extra": 1' in show
    data = as_json(cli("restart", item.id, "-p", "other=x", "--json"))
    assert data["params"] == {"other": "x"}
    assert (data["status"], data["run"]) == ("failed", 2)
    assert_error(cli("restart", item.id, "-p", "x"), "key=value")


@pytest.fixture()
def three_workflows(create_workflow):
    """A succeeded, a failed and a created workflow, indexed."""
    items = {
        "sums": create_workflow(name="sums", params={}, start=True),
        "failing": create_workflow(name="failing", params={}, start=True),
        "pdf-plots": create_workflow(
            params={"file_id": "f-7"}, subject={"type": "record", "id": "r-1"}
        ),
    }
    refresh()
    return {name: str(item.id) for name, item in items.items()}


def _ids(data):
    return {hit["id"] for hit in data["hits"]["hits"]}


def test_list_json_filters(cli, three_workflows):
    ids = three_workflows
    data = as_json(cli("list", "--json"))
    assert data["hits"]["total"] == 3
    assert "aggregations" in data
    assert _ids(as_json(cli("list", "--json", "--status", "failed"))) == {
        ids["failing"]
    }
    both = cli("list", "--json", "-s", "failed", "-s", "created")
    assert _ids(as_json(both)) == {ids["failing"], ids["pdf-plots"]}
    assert _ids(as_json(cli("list", "--json", "--name", "sums"))) == {ids["sums"]}
    on_subject = cli("list", "--json", "--subject", "record:r-1")
    assert _ids(as_json(on_subject)) == {ids["pdf-plots"]}
    assert _ids(as_json(cli("list", "--json", "-q", "name:failing"))) == {
        ids["failing"]
    }
    by_name = as_json(cli("list", "--json", "--sort", "name"))
    assert [hit["name"] for hit in by_name["hits"]["hits"]] == [
        "failing",
        "pdf-plots",
        "sums",
    ]
    oldest = as_json(cli("list", "--json", "--sort", "oldest", "--size", "1"))
    assert _ids(oldest) == {ids["sums"]}
    page2 = as_json(
        cli("list", "--json", "--sort", "oldest", "--size", "1", "--page", "2")
    )
    assert _ids(page2) == {ids["failing"]}
    assert as_json(cli("list", "--json", "--status", "stopped"))["hits"]["total"] == 0


def test_list_table(cli, three_workflows):
    out = ok(cli("list", "--sort", "oldest"))
    header, *rows, footer = out.splitlines()
    assert header.split() == [
        "ID",
        "NAME",
        "STATUS",
        "RUN",
        "TASKS",
        "CREATED",
        "UPDATED",
    ]
    assert [row.split()[0] for row in rows] == list(three_workflows.values())
    assert [row.split()[2] for row in rows] == ["succeeded", "failed", "created"]
    assert "2/2 succeeded" in rows[0]
    assert "1/3 succeeded, 1 failed, 1 skipped" in rows[1]
    assert "0/4 succeeded, 4 pending" in rows[2]
    assert_aligned([header, *rows])
    column = header.index("STATUS")
    assert all(
        row[column:].split()[0] in ("succeeded", "failed", "created") for row in rows
    )
    assert footer == "1-3 of 3 (page 1)"
    assert ok(cli("list", "--status", "stopped")) == "No workflows found.\n"


def test_colours_only_on_a_terminal(app, cli, three_workflows):
    plain = ok(cli("list", "--sort", "oldest"))
    runner = app.test_cli_runner()
    coloured = runner.invoke(workflows, ["list", "--sort", "oldest"], color=True)
    assert coloured.exit_code == 0
    assert click.style("succeeded", fg="green") in coloured.stdout
    assert click.style("failed", fg="red") in coloured.stdout
    assert click.unstyle(coloured.stdout) == plain
    data = runner.invoke(workflows, ["list", "--json"], color=True).stdout
    assert "\x1b[" not in data
    assert json.loads(data)["hits"]["total"] == 3


def _delete_indices(*names):
    list(current_search.delete(ignore=[404], index_list=list(names)))
    for name in names:
        assert not current_search_client.indices.exists(index=build_alias_name(name))


def test_list_without_index_is_one_line(cli, three_workflows):
    _delete_indices(WORKFLOW_INDEX)
    assert_error(cli("list"), "reindex")


def test_param_help_says_how_to_force_a_string(cli):
    for command in ("start", "restart", "resume", "task-restart"):
        help_text = " ".join(ok(cli(command, "--help")).split())
        assert "read as JSON" in help_text, command
        assert "-p 'name=\"123\"'" in help_text, command


def test_param_values_are_json(cli, create_workflow):
    probe = as_json(
        cli(
            "start",
            "params-probe",
            "-p",
            "size=3",
            "-p",
            'name="123"',
            "-p",
            "draft=true",
            "-p",
            "file_id=abc",
            "--json",
        )
    )
    assert probe["params"] == {
        "colour": "blue",
        "size": 3,
        "name": "123",
        "draft": True,
        "file_id": "abc",
    }


def test_show_prints_the_errors_of_failed_tasks(cli, create_workflow):
    workflow_id = create_workflow(name="failing", params={}, start=True).id
    out = ok(cli("show", workflow_id))
    errors = out.split("\n\n")[2]
    header, error, *trace = errors.splitlines()
    assert header == f"Task 1 ({'tests.mock_module.tasks.fail'}) failed (attempt 1):"
    assert error == "  ValueError: boom"
    assert trace[0] == "    Traceback (most recent call last):"
    assert "raise ValueError(message)" in errors
    assert trace[-1] == "    ValueError: boom"

    brief = ok(cli("show", workflow_id, "--no-traceback"))
    assert "  ValueError: boom" in brief
    assert "Traceback" not in brief


def _running(create_workflow, monkeypatch, name="sums"):
    """A started workflow whose tasks never reach Celery: it stays running."""
    monkeypatch.setattr(
        "invenio_workflow_records.engine.dispatch.SendTaskOp.on_post_commit",
        lambda self, uow: None,
    )
    return str(create_workflow(name=name, params={}, start=True).id)


def _statuses(workflow_id):
    return [t["status"] for t in TaskRecord.get_workflow_tasks(workflow_id)]


def test_task_stop_by_key_or_id(cli, create_workflow, monkeypatch):
    workflow_id = _running(create_workflow, monkeypatch)
    out = ok(cli("task-stop", workflow_id, "0"))
    first = TaskRecord.get_workflow_tasks(workflow_id)[0]
    assert out == (
        f"Stopped task 0 (add) {first.id}: stopped; workflow {workflow_id} is "
        "stopped\n"
    )
    assert _statuses(workflow_id) == ["stopped", "skipped"]
    assert_error(
        cli("task-stop", workflow_id, str(first.id)), "stopped", "only a pending"
    )

    other = _running(create_workflow, monkeypatch)
    second = TaskRecord.get_workflow_tasks(other)[1]
    data = as_json(cli("task-stop", other, str(second.id), "--json"))
    assert (data["id"], data["status"]) == (str(second.id), "stopped")
    assert data["actor"] == {"system": True}


def test_task_restart(cli, create_workflow):
    workflow_id = str(create_workflow(name="failing", params={}, start=True).id)
    tasks = TaskRecord.get_workflow_tasks(workflow_id)
    ids = [str(t.id) for t in tasks]

    out = ok(cli("task-restart", workflow_id, "1", "--dry-run"))
    lines = out.splitlines()
    assert lines[0] == "Dry run: would run 2 tasks again, nothing changed:"
    assert lines[1].split() == ["KEY", "ID", "NAME", "STATUS"]
    assert [line.split() for line in lines[2:]] == [
        ["1", ids[1], "fail", "failed"],
        ["2", ids[2], "add", "skipped"],
    ]
    assert_aligned(lines[1:])
    assert [t["attempt"] for t in TaskRecord.get_workflow_tasks(workflow_id)] == [
        1,
        1,
        0,
    ]

    data = as_json(
        cli(
            "task-restart",
            workflow_id,
            ids[1],
            "--no-downstream",
            "--dry-run",
            "--json",
        )
    )
    assert data == {"dry_run": True, "downstream": False, "tasks": [ids[1]]}

    out = ok(cli("task-restart", workflow_id, "1", "-p", 'message="again"'))
    assert out.splitlines()[0] == (
        f"Restarted 2 tasks of workflow {workflow_id} (failing): failed"
    )
    failed = TaskRecord.get_workflow_tasks(workflow_id)[1]
    assert failed["attempt"] == 2
    assert failed["error"]["message"] == "again"
    assert_error(cli("task-restart", workflow_id, "1", "-p", "nope"), "key=value")


def test_task_show(cli, create_workflow):
    workflow_id = str(create_workflow(name="failing", params={}, start=True).id)
    out = ok(cli("task-show", workflow_id, "1"))
    fields_text, error_text = out.split("\n\n")
    fields = dict(line.split(None, 1) for line in fields_text.splitlines())
    tasks = TaskRecord.get_workflow_tasks(workflow_id)
    assert fields["Task"] == str(tasks[1].id)
    assert fields["Key"] == "1"
    assert fields["Name"] == "tests.mock_module.tasks.fail"
    assert fields["Workflow"] == f"{workflow_id} (failing)"
    assert fields["Status"] == "failed"
    assert fields["Parents"] == "0"
    assert fields["Args"] == "[]"
    assert fields["Message"] == "boom"
    assert error_text.splitlines()[:3] == [
        "Error:",
        "  ValueError: boom",
        "    Traceback (most recent call last):",
    ]
    ok_fields = dict(
        line.split(None, 1)
        for line in ok(cli("task-show", workflow_id, "0")).splitlines()
    )
    assert ok_fields["Result"] == "2"
    assert "Error" not in ok_fields
    data = as_json(cli("task-show", workflow_id, str(tasks[2].id), "--json"))
    assert (data["key"], data["status"]) == ("2", "skipped")


def test_history_of_a_workflow_and_a_task(cli, create_workflow):
    workflow_id = str(create_workflow(name="failing", params={}, start=True).id)
    ok(cli("task-restart", workflow_id, "1", "--no-downstream"))

    out = ok(cli("history", workflow_id))
    header, *rows, footer = out.splitlines()
    assert header.split() == [
        "REVISION",
        "TIME",
        "STATUS",
        "RUN",
        "TASKS",
        "ACTOR",
        "MESSAGE",
    ]
    assert_aligned([header, *rows])
    data = as_json(cli("history", workflow_id, "--json"))
    revisions = data["hits"]["hits"]
    assert len(rows) == data["hits"]["total"] == len(revisions)
    assert [row.split()[0] for row in rows] == [
        str(r["revision_id"]) for r in revisions
    ]
    assert rows[-1].split()[3:5] == ["running", "1"]  # the start, oldest last
    assert "system" in rows[-1]
    assert rows[0].split()[3] == "failed"
    assert footer == f"1-{len(rows)} of {len(rows)} revisions (newest first, page 1)"

    out = ok(cli("history", workflow_id, "1"))
    header, *rows, footer = out.splitlines()
    assert header.split() == [
        "REVISION",
        "TIME",
        "STATUS",
        "RUN",
        "ATTEMPT",
        "ACTOR",
        "MESSAGE",
    ]
    statuses = [row.split()[3] for row in rows]
    assert statuses == [
        "failed",
        "running",
        "queued",
        "failed",
        "running",
        "queued",
        "pending",
    ]
    attempts = [row.split()[5] for row in rows]
    assert attempts == ["2", "2", "2", "1", "1", "1", "0"]
    assert rows[0].endswith("boom")
    assert "system" in rows[2]  # the restart
    paged = as_json(
        cli("history", workflow_id, "1", "--size", "2", "--page", "2", "--json")
    )
    assert [r["status"] for r in paged["hits"]["hits"]] == ["queued", "failed"]
    assert (paged["page"], paged["size"], paged["hits"]["total"]) == (2, 2, 7)


@pytest.fixture()
def two_runs(create_workflow):
    """A failed and a succeeded workflow, indexed."""
    failing = str(create_workflow(name="failing", params={}, start=True).id)
    sums = str(create_workflow(name="sums", params={}, start=True).id)
    refresh()
    return failing, sums


def test_task_search(cli, two_runs):
    failing, sums = two_runs
    data = as_json(cli("tasks", "--json"))
    assert data["hits"]["total"] == 5
    failed = as_json(cli("tasks", "--status", "failed", "--json"))["hits"]["hits"]
    assert [(t["workflow_id"], t["key"]) for t in failed] == [(failing, "1")]
    for name in ("fail", "tests.mock_module.tasks.fail"):
        hits = as_json(cli("tasks", "--name", name, "--json"))["hits"]["hits"]
        assert [t["status"] for t in hits] == ["failed"], name
    adds = as_json(cli("tasks", "-n", "add", "-s", "succeeded", "--json"))
    assert adds["hits"]["total"] == 3
    of_sums = as_json(cli("tasks", "--workflow", sums, "--json"))
    assert {t["workflow_id"] for t in of_sums["hits"]["hits"]} == {sums}
    assert of_sums["hits"]["total"] == 2
    assert as_json(cli("tasks", "--name", "nothing", "--json"))["hits"]["total"] == 0

    out = ok(cli("tasks", "--status", "failed", "--status", "skipped"))
    header, *rows, footer = out.splitlines()
    assert header.split() == [
        "ID",
        "WORKFLOW",
        "ID",
        "WORKFLOW",
        "KEY",
        "NAME",
        "STATUS",
        "ATTEMPT",
        "UPDATED",
        "MESSAGE",
    ]
    assert_aligned([header, *rows])
    assert sorted(row.split()[5] for row in rows) == ["failed", "skipped"]
    assert all(row.split()[1:3] == [failing, "failing"] for row in rows)
    assert footer == "1-2 of 2 (page 1)"
    assert ok(cli("tasks", "--status", "stopped")) == "No tasks found.\n"


@pytest.mark.parametrize(
    "args, words",
    [
        (["history", str(uuid.UUID(int=1))], ["No workflow with id"]),
        (["history", "nope"], ["Malformed workflow id 'nope'"]),
        (["task-show", str(uuid.UUID(int=1)), "0"], ["No workflow with id"]),
        (["task-stop", str(uuid.UUID(int=1)), str(uuid.UUID(int=2))], ["No task"]),
        (["task-restart", "nope", "0"], ["Malformed workflow id"]),
        (["tasks", "--page", "10000", "--size", "1000"], ["pagination"]),
    ],
)
def test_task_errors_are_one_line(cli, args, words):
    assert_error(cli(*args), *words)


def test_task_of_another_workflow_is_not_found(cli, create_workflow):
    first = str(create_workflow(name="sums", params={}).id)
    second = str(create_workflow(name="sums", params={}).id)
    task_id = str(TaskRecord.get_workflow_tasks(second)[0].id)
    assert_error(cli("task-show", first, task_id), "No task with id")
    assert_error(cli("history", first, "9"), "No task with key '9'", "0, 1")
    assert_error(cli("task-restart", first, "0"), "never started")

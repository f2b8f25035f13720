# SPDX-License-Identifier: MIT
"""Bodies no database can store are a 400 naming the problem, and write nothing.

Each of these used to be a 500 (a ``UnicodeDecodeError``, a ``RecursionError``
or PostgreSQL refusing the value), for administrators and anonymous callers
alike; now the strict JSON body parser refuses them before the service runs.
"""

import json

import pytest
from sqlalchemy import text

from invenio_workflow_records.records import TaskRecord

HEADERS = {"content-type": "application/json", "accept": "application/json"}
TABLES = (
    "workflows_workflow",
    "workflows_workflow_version",
    "workflows_task",
    "workflows_task_version",
)


def row_counts(db):
    """The number of rows of the workflow and task tables and their versions."""
    return {
        table: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        for table in TABLES
    }


@pytest.fixture(params=["admin", "anonymous"])
def caller(request, app, login, admin):
    """A test client, logged in as an administrator or anonymous."""
    if request.param == "admin":
        return login(admin)
    return app.test_client()


@pytest.fixture()
def workflow(create_workflow):
    """A created ``sums`` workflow, as the system made it."""
    return create_workflow(name="sums", params={})


@pytest.fixture()
def assert_rejected(caller, db):
    """Send a raw body; assert a 400 naming ``expected`` and no row written."""

    def _assert(url, body, expected, method="POST", field=None):
        before = row_counts(db)
        res = caller.open(url, method=method, data=body, headers=HEADERS)
        assert res.status_code == 400, res.get_data(as_text=True)
        assert res.content_type == "application/json"
        payload = res.json
        assert payload["status"] == 400
        text = json.dumps(payload)
        assert expected in text, text
        assert "Traceback" not in text
        if field is not None:
            assert field in [error["field"] for error in payload["errors"]], payload
        assert row_counts(db) == before
        return payload

    return _assert


def _body(params, **extra):
    """A create body around the raw JSON text ``params``."""
    fields = "".join(f', "{key}": {value}' for key, value in extra.items())
    return f'{{"name": "sums", "params": {params}{fields}}}'


def test_invalid_utf8(assert_rejected, search_clear):
    body = b'{"name": "sums", "params": {"a": "caf\xe9"}}'
    assert_rejected("/workflows", body, "not valid UTF-8")


def test_utf8_encoded_surrogate(assert_rejected, search_clear):
    body = b'{"name": "sums", "params": {"a": "\xed\xa0\x80"}}'
    assert_rejected("/workflows", body, "not valid UTF-8")


def test_deep_nesting_beyond_the_decoder(assert_rejected, search_clear):
    body = _body('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    assert_rejected("/workflows", body, "nested deeper than 64 levels")


def test_deep_nesting_beyond_the_limit(assert_rejected, search_clear):
    body = _body('{"a": ' + "[" * 200 + "]" * 200 + "}")
    payload = assert_rejected("/workflows", body, "Nested deeper than 64 levels")
    assert payload["errors"][0]["field"].startswith("params.a.0.0")


def test_nan(assert_rejected, search_clear):
    body = _body('{"x": NaN}')
    assert_rejected("/workflows", body, "NaN is not a valid", field="params.x")


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "1e999"])
def test_infinity(assert_rejected, search_clear, number):
    body = _body(f'{{"x": [1, {number}]}}')
    assert_rejected("/workflows", body, "params.x.1", field="params.x.1")


def test_integer_with_too_many_digits(assert_rejected, search_clear):
    body = _body('{"x": ' + "9" * 5000 + "}")
    assert_rejected("/workflows", body, "too many digits", field="params.x")


def test_nul_in_a_param_value(assert_rejected, search_clear):
    body = _body('{"file": "a\\u0000b"}')
    assert_rejected("/workflows", body, "NUL character", field="params.file")


def test_nul_in_a_key(assert_rejected, search_clear):
    body = _body('{"fi\\u0000le": "a"}')
    assert_rejected("/workflows", body, "NUL character", field="params.fi\\u0000le")


def test_lone_surrogate(assert_rejected, search_clear):
    body = _body('{"file": ["ok", "\\ud800"]}')
    assert_rejected("/workflows", body, "lone surrogate", field="params.file.1")


def test_lone_surrogate_in_a_key(assert_rejected, search_clear):
    body = _body('{"\\udc00": 1}')
    assert_rejected("/workflows", body, "lone surrogate", field="params.\\udc00")


def test_nul_in_idempotency_key(assert_rejected, search_clear):
    body = _body("{}", idempotency_key='"key\\u0000"')
    assert_rejected("/workflows", body, "NUL character", field="idempotency_key")


def test_nul_in_the_subject(assert_rejected, search_clear):
    body = _body("{}", subject='{"type": "record", "id": "\\u0000"}')
    assert_rejected("/workflows", body, "NUL character", field="subject.id")


def test_nan_when_starting(assert_rejected, workflow, search_clear):
    url = f"/workflows/{workflow.id}/actions/start"
    assert_rejected(url, '{"params": {"x": NaN}}', "NaN", field="params.x")


def test_surrogate_when_restarting(assert_rejected, workflow, search_clear):
    url = f"/workflows/{workflow.id}"
    body = '{"params": {"x": "\\udfff"}}'
    assert_rejected(url, body, "lone surrogate", method="PUT", field="params.x")


def test_nul_when_restarting_a_task(assert_rejected, workflow, search_clear):
    task = TaskRecord.get_workflow_tasks(workflow.id)[0]
    url = f"/workflows/{workflow.id}/tasks/{task.id}"
    body = '{"params": {"\\u0000": 1}}'
    assert_rejected(url, body, "NUL character", method="PUT", field="params.\\u0000")


def test_good_neighbours_still_work(login, admin, db, search_clear):
    """Valid surrogate pairs, non-ASCII text and deep-enough nesting are fine."""
    client = login(admin)
    params = {"emoji": "\U0001f600", "text": "caf\u00e9", "deep": [[[[[1.5]]]]]}
    body = json.dumps({"name": "sums", "params": params})  # \ud83d\ude00 pair
    res = client.post("/workflows", data=body, headers=HEADERS)
    assert res.status_code == 201, res.json
    assert res.json["params"] == params
    res = client.post("/workflows", data=body.encode("utf-8-sig"), headers=HEADERS)
    assert res.status_code == 201, res.json


@pytest.mark.parametrize(
    "error, expected",
    [
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "UTF-8"),
    ],
)
def test_safety_net_for_errors_past_the_parser(
    app, login, admin, db, workflow, monkeypatch, error, expected
):
    """Should one of these escape the parser, it is still a 400, not a 500."""
    service = app.extensions["invenio-workflow-records"].workflows_resource.service

    def read(*args, **kwargs):
        raise error

    monkeypatch.setattr(service, "read", read)
    res = login(admin).get(f"/workflows/{workflow.id}", headers=HEADERS)
    assert res.status_code == 400
    assert res.json["status"] == 400
    assert expected in res.json["message"]


def test_a_json_body_with_a_charset_parameter_is_accepted(login, admin, search_clear):
    """``application/json; charset=utf-8`` is JSON, as most clients send it."""
    client = login(admin)
    res = client.post(
        "/workflows",
        data=json.dumps({"name": "sums", "params": {}}).encode(),
        headers={
            "content-type": "application/json; charset=utf-8",
            "accept": "application/json",
        },
    )
    assert res.status_code == 201, res.json

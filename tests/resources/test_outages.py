# SPDX-License-Identifier: MIT
"""What the REST API answers when something behind it is down."""

import json

from sqlalchemy.exc import OperationalError

from invenio_workflow_records.engine import dispatch
from invenio_workflow_records.proxies import current_workflows_service
from invenio_workflow_records.records import TaskRecord, WorkflowRecord

HEADERS = {"content-type": "application/json", "accept": "application/json"}


def test_unreachable_database_is_a_503_with_retry_after(
    login, admin, monkeypatch, search_clear
):
    client = login(admin)

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(current_workflows_service, "read", unreachable)
    res = client.get("/workflows/00000000-0000-0000-0000-000000000000", headers=HEADERS)
    assert res.status_code == 503
    assert res.headers["Retry-After"] == "5"
    assert res.json == {
        "status": 503,
        "message": "The database is unreachable; try again shortly.",
    }
    assert "Traceback" not in res.get_data(as_text=True)


def test_broker_down_still_answers_201_with_the_started_workflow(
    login, admin, monkeypatch, search_clear
):
    """The commit stands: the answer is the record as it is after the start."""
    client = login(admin)

    def refused(*message):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(dispatch, "send_message", refused)
    monkeypatch.setattr(dispatch, "mark_unsent", lambda ids: None)
    body = {"name": "sums", "params": {}, "start": True}
    res = client.post("/workflows", data=json.dumps(body), headers=HEADERS)
    assert res.status_code == 201, res.json
    assert (res.json["status"], res.json["run"]) == ("running", 1)
    assert res.json["task_counts"] == {"pending": 1, "queued": 1}
    workflow = WorkflowRecord.get_record(res.json["id"])
    assert res.json["revision_id"] == workflow.revision_id
    root = TaskRecord.get_workflow_tasks(workflow.id)[0]
    assert root["status"] == "queued"


def test_task_list_pages_with_links(login, admin, search_clear):
    client = login(admin)
    body = {"name": "pdf-plots", "params": {"file_id": "f-1"}}
    workflow = client.post("/workflows", data=json.dumps(body), headers=HEADERS).json
    res = client.get(f"/workflows/{workflow['id']}/tasks?page=2&size=3")
    assert res.status_code == 200
    assert res.json["hits"]["total"] == 4
    assert [t["key"] for t in res.json["hits"]["hits"]] == ["2"]
    assert res.json["links"]["prev"].endswith("/tasks?page=1&size=3")
    assert "next" not in res.json["links"]
    first = client.get(f"/workflows/{workflow['id']}/tasks?page=1&size=3").json
    assert first["links"]["next"].endswith("/tasks?page=2&size=3")
    assert len(first["hits"]["hits"]) == 3
    bad = client.get(f"/workflows/{workflow['id']}/tasks?size=0")
    assert bad.status_code == 400

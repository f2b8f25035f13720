# SPDX-License-Identifier: MIT
"""REST actions on workflows and tasks (eager Celery): codes and states."""

import json

import pytest

from invenio_workflow_records.records import TaskRecord

HEADERS = {"content-type": "application/json", "accept": "application/json"}


def _create(client, name="sums", **body):
    res = client.post(
        "/workflows", data=json.dumps({"name": name, **body}), headers=HEADERS
    )
    assert res.status_code == 201, res.json
    return res.json


def _send(client, method, url, body=None):
    data = json.dumps(body) if body is not None else None
    return client.open(url, method=method, data=data, headers=HEADERS)


def test_start_then_start_again_is_409(login, admin, search_clear):
    client = login(admin)
    workflow = _create(client)
    res = _send(client, "POST", f"/workflows/{workflow['id']}", {})
    assert res.status_code == 202
    assert res.json["status"] == "running"  # as the start committed it
    assert res.json["run"] == 1
    # Eager Celery ran the tasks right after the commit.
    read = client.get(f"/workflows/{workflow['id']}", headers=HEADERS).json
    assert read["status"] == "succeeded"
    again = _send(client, "POST", f"/workflows/{workflow['id']}/actions/start", {})
    assert again.status_code == 409
    assert again.json["status"] == 409
    assert "created" in again.json["message"]


def test_every_spelling_of_the_workflow_actions(login, admin, search_clear):
    client = login(admin)
    workflow = _create(client, name="failing", start=True)
    url = f"/workflows/{workflow['id']}"
    assert client.get(url, headers=HEADERS).json["status"] == "failed"

    res = _send(client, "POST", f"{url}/actions/resume", {"params": {}})
    assert res.status_code == 202
    res = _send(client, "PUT", url, {"params": {}})
    assert res.status_code == 202
    assert res.json["run"] == 2
    res = _send(client, "POST", f"{url}/actions/restart")
    assert res.status_code == 202
    assert res.json["run"] == 3
    # Nothing runs any more: stopping is not allowed.
    assert _send(client, "DELETE", url).status_code == 409
    assert _send(client, "POST", f"{url}/actions/stop").status_code == 409
    assert _send(client, "POST", f"{url}/actions/explode").status_code == 404


def test_stop_a_running_workflow(login, admin, search_clear, monkeypatch):
    from invenio_workflow_records.engine import dispatch

    # Keep the tasks queued: no message leaves.
    monkeypatch.setattr(dispatch.SendTaskOp, "on_post_commit", lambda *a: None)
    client = login(admin)
    workflow = _create(client, start=True)
    url = f"/workflows/{workflow['id']}"
    assert client.get(url, headers=HEADERS).json["status"] == "running"
    res = _send(client, "DELETE", url)
    assert res.status_code == 202
    assert res.json["status"] == "stopped"
    tasks = client.get(f"{url}/tasks", headers=HEADERS).json["hits"]["hits"]
    assert {t["status"] for t in tasks} == {"stopped"}


def test_task_actions(login, admin, search_clear):
    client = login(admin)
    workflow = _create(client, start=True)
    first, second = TaskRecord.get_workflow_tasks(workflow["id"])
    url = f"/workflows/{workflow['id']}/tasks/{first.id}"

    res = _send(client, "PUT", url, {"dry_run": True})
    assert res.status_code == 200
    assert res.json["tasks"] == [str(first.id), str(second.id)]
    res = _send(client, "POST", f"{url}/actions/restart", {"downstream": False})
    assert res.status_code == 202
    assert res.json["tasks"] == [str(first.id)]
    assert client.get(url, headers=HEADERS).json["attempt"] == 2
    # A finished task cannot be stopped.
    assert _send(client, "DELETE", url).status_code == 409
    assert _send(client, "POST", f"{url}/actions/stop").status_code == 409
    assert _send(client, "POST", f"{url}/actions/explode").status_code == 404


@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("POST", "", {"params": {"dpi": 10}}),
        ("POST", "", {"colour": "red"}),
        ("PUT", "", {"params": "not an object"}),
        ("POST", "/actions/resume", {"params": []}),
    ],
)
def test_bad_action_bodies_are_400(login, admin, search_clear, method, suffix, body):
    client = login(admin)
    workflow = _create(client, name="pdf-plots", params={"file_id": "f"})
    res = _send(client, method, f"/workflows/{workflow['id']}{suffix}", body)
    assert res.status_code in (400, 409), res.json
    after = client.get(f"/workflows/{workflow['id']}", headers=HEADERS).json
    assert after["status"] == "created" and after["run"] == 0


def test_bad_task_restart_body_is_400(login, admin, search_clear):
    client = login(admin)
    workflow = _create(client, start=True)
    first = TaskRecord.get_workflow_tasks(workflow["id"])[0]
    url = f"/workflows/{workflow['id']}/tasks/{first.id}"
    res = _send(client, "PUT", url, {"downstream": "sideways"})
    assert res.status_code == 400
    assert client.get(url, headers=HEADERS).json["attempt"] == 1


def test_actions_need_permission(client, users, login, workflows_service, db):
    from invenio_access.permissions import system_identity

    item = workflows_service.create(
        system_identity,
        {"name": "sums"},
        owner={"user": str(users["owner"].id)},
    )
    url = f"/workflows/{item.id}"
    assert _send(client, "POST", url, {}).status_code == 401
    login(users["owner"])  # owners read, they do not act by default
    assert _send(client, "POST", url, {}).status_code == 403
    assert _send(client, "DELETE", url).status_code == 403
    first = TaskRecord.get_workflow_tasks(item.id)[0]
    assert _send(client, "PUT", f"{url}/tasks/{first.id}", {}).status_code == 403

# SPDX-License-Identifier: MIT
"""Contract fixes of the REST API: who acts, who searches, what is shown."""

import json

from invenio_access.permissions import system_identity
from invenio_search import current_search

from invenio_workflow_records.proxies import current_workflows_service
from invenio_workflow_records.records import TaskRecord, WorkflowRecord

HEADERS = {"content-type": "application/json", "accept": "application/json"}


def _post(client, body):
    return client.post("/workflows", data=json.dumps(body), headers=HEADERS)


def _refresh():
    current_search.flush_and_refresh("workflows")


def test_a_factory_open_to_all_lets_anonymous_search(client, db, search_clear):
    created = _post(client, {"name": "open-sums", "start": True})
    assert created.status_code == 201, created.json
    # Anonymous is not the system.
    assert created.json["owner"] == {"anonymous": True}
    current_workflows_service.create(system_identity, {"name": "sums"})
    _refresh()
    res = client.get("/workflows", headers=HEADERS)
    assert res.status_code == 200
    assert [hit["name"] for hit in res.json["hits"]["hits"]] == ["open-sums"]
    tasks = client.get("/tasks", headers=HEADERS)
    assert tasks.status_code == 200
    assert {hit["workflow_name"] for hit in tasks.json["hits"]["hits"]} <= {"open-sums"}


def test_the_system_may_act_whatever_a_factory_says(db, search_clear):
    item = current_workflows_service.create(
        system_identity, {"name": "open-sums", "start": True}
    )
    assert item.to_dict()["owner"] == {"system": True}
    assert WorkflowRecord.get_record(item.id)["status"] == "succeeded"


def test_idempotency_key_reused_with_other_params_is_a_409(login, admin, search_clear):
    client = login(admin)
    body = {"name": "pdf-plots", "params": {"file_id": "a"}, "idempotency_key": "k1"}
    first = _post(client, body)
    assert first.status_code == 201
    again = _post(client, body)
    assert (again.status_code, again.json["id"]) == (200, first.json["id"])
    other = _post(client, {**body, "params": {"file_id": "b"}})
    assert other.status_code == 409
    assert "idempotency key 'k1' was already used" in other.json["message"]
    assert WorkflowRecord.model_cls.query.count() == 1


def test_task_restart_params_are_validated_and_shown(login, admin, search_clear):
    client = login(admin)
    workflow = _post(client, {"name": "open-sums", "start": True}).json
    first = TaskRecord.get_workflow_tasks(workflow["id"])[0]
    url = f"/workflows/{workflow['id']}/tasks/{first.id}"
    bad = client.put(url, data=json.dumps({"params": {"file_id": 7}}), headers=HEADERS)
    assert bad.status_code == 400
    assert bad.json["errors"][0]["field"] == "params.file_id"
    assert TaskRecord.get_record(first.id)["attempt"] == 1  # nothing changed
    good = client.put(
        url, data=json.dumps({"params": {"file_id": "f-7"}}), headers=HEADERS
    )
    assert good.status_code == 202, good.json
    task = client.get(url, headers=HEADERS).json
    assert task["overrides"] == {"file_id": "f-7"}
    revisions = client.get(f"{url}/revisions", headers=HEADERS).json["hits"]["hits"]
    assert revisions[0]["overrides"] == {"file_id": "f-7"}


def test_actor_duration_and_short_name_are_recorded(login, admin, search_clear):
    client = login(admin)
    workflow = _post(client, {"name": "sums", "params": {}}).json
    started = client.post(f"/workflows/{workflow['id']}", headers=HEADERS)
    assert started.status_code == 202
    assert started.json["actor"] == {"user": str(admin.id)}
    record = WorkflowRecord.get_record(workflow["id"])
    assert record["status"] == "succeeded"
    assert record["duration"] >= 0
    # The revision made by the engine when the run ended has no actor.
    assert "actor" not in record
    assert [r.get("actor") for r in record.revisions][1] == {"user": str(admin.id)}
    task = client.get(f"/workflows/{workflow['id']}/tasks", headers=HEADERS).json[
        "hits"
    ]["hits"][0]
    assert task["short_name"] == "add"
    assert task["duration"] >= 0
    current_search.flush_and_refresh("*")
    found = client.get("/tasks?q=short_name:add", headers=HEADERS).json
    assert found["hits"]["total"] == 2
    found = client.get("/tasks?q=add", headers=HEADERS).json
    assert found["hits"]["total"] == 2


def test_action_links_only_when_permitted_and_possible(
    client, login, admin, users, search_clear
):
    owner = users["owner"]
    item = current_workflows_service.create(
        system_identity,
        {"name": "failing", "params": {}},
        owner={"user": str(owner.id)},
    )
    client = login(admin)
    links = client.get(f"/workflows/{item.id}", headers=HEADERS).json["links"]
    assert {"start"} == set(links) & {"start", "stop", "restart", "resume"}
    assert links["start"].endswith(f"/workflows/{item.id}/actions/start")
    client.post(f"/workflows/{item.id}", headers=HEADERS)  # runs and fails
    links = client.get(f"/workflows/{item.id}", headers=HEADERS).json["links"]
    assert {"restart", "resume"} == set(links) & {"start", "stop", "restart", "resume"}
    tasks = client.get(f"/workflows/{item.id}/tasks", headers=HEADERS).json
    failed = [t for t in tasks["hits"]["hits"] if t["status"] == "failed"][0]
    assert failed["links"]["restart"].endswith(f"/tasks/{failed['id']}/actions/restart")
    assert "stop" not in failed["links"]
    revisions = client.get(
        f"/workflows/{item.id}/revisions?size=1", headers=HEADERS
    ).json
    assert revisions["links"]["next"].endswith("/revisions?page=2&size=1")

    client.get("/logout")
    login(owner)
    links = client.get(f"/workflows/{item.id}", headers=HEADERS).json["links"]
    assert not set(links) & {"start", "stop", "restart", "resume"}
    tasks = client.get(f"/workflows/{item.id}/tasks", headers=HEADERS).json
    assert all(not set(t["links"]) & {"stop", "restart"} for t in tasks["hits"]["hits"])


def test_definitions_are_listed_for_clients(client, login, admin, search_clear):
    anonymous = client.get("/workflows/definitions", headers=HEADERS)
    assert anonymous.status_code == 200
    assert [d["name"] for d in anonymous.json["hits"]["hits"]] == ["open-sums"]
    client = login(admin)
    res = client.get("/workflows/definitions", headers=HEADERS).json
    by_name = {d["name"]: d for d in res["hits"]["hits"]}
    pdf = by_name["pdf-plots"]
    assert pdf["title"] == "PDF plot extraction"
    assert pdf["default_params"] == {"dpi": 300}
    assert pdf["params_schema"]["required"] == ["file_id"]
    assert [(t["key"], t["short_name"], t["parents"]) for t in pdf["tasks"]] == [
        ("0", "extract", []),
        ("1.0", "pages", ["0"]),
        ("1.1", "pages", ["0"]),
        ("2", "collect", ["1.0", "1.1"]),
    ]


def test_date_filters_and_duration_sort(client, login, admin, search_clear):
    client = login(admin)
    done = _post(client, {"name": "sums", "params": {}, "start": True}).json
    waiting = _post(client, {"name": "sums", "params": {}}).json
    current_search.flush_and_refresh("*")
    record = WorkflowRecord.get_record(done["id"])

    def ids(query):
        res = client.get(f"/workflows?{query}", headers=HEADERS)
        assert res.status_code == 200, res.json
        return [hit["id"] for hit in res.json["hits"]["hits"]]

    finished = record["finished_at"]
    assert ids(f"finished_at_after={finished.replace('+00:00', 'Z')}") == [done["id"]]
    assert ids("finished_at_before=2000-01-01") == []
    assert set(ids("created_after=2000-01-01")) == {done["id"], waiting["id"]}
    assert ids("sort=duration")[0] == done["id"]
    bad = client.get("/workflows?started_at_after=yesterday", headers=HEADERS)
    assert bad.status_code == 400
    tasks = client.get("/tasks?short_name=add&workflow=sums", headers=HEADERS)
    assert tasks.json["hits"]["total"] == 4


def test_query_string_rule(client, login, admin, search_clear):
    """A query that is not valid syntax is a 400 with a hint, on both searches."""
    client = login(admin)
    _post(client, {"name": "sums", "params": {}, "start": True})
    current_search.flush_and_refresh("*")
    for path in ("/workflows", "/tasks"):
        for query in ("(", "started_at:>2026-12-01T03:39:00"):
            res = client.get(path, query_string={"q": query}, headers=HEADERS)
            assert res.status_code == 400, (path, query, res.json)
            assert "Invalid query string syntax" in json.dumps(res.json)
        res = client.get(
            path, query_string={"q": "started_at:>2000-01-01"}, headers=HEADERS
        )
        assert (res.status_code, res.json["hits"]["total"] >= 1) == (200, True)

# SPDX-License-Identifier: MIT
"""REST API of workflows and tasks: routes, shapes and every error rule."""

import json
import os
import uuid
from urllib.parse import urlparse

import pytest
from invenio_access.permissions import system_identity
from invenio_search import current_search

from invenio_workflow_records.records import TaskRecord

HEADERS = {"content-type": "application/json", "accept": "application/json"}
BODY = {"name": "pdf-plots", "params": {"file_id": "f-1"}}


def _post(client, body, **kwargs):
    return client.post("/workflows", data=json.dumps(body), headers=HEADERS, **kwargs)


def _path(link):
    """The path of an API link, as the test client (mounted at /) needs it."""
    return urlparse(link).path.removeprefix("/api")


def _refresh():
    current_search.flush_and_refresh("workflows")


def test_create_then_tasks_are_pending_with_parents(login, admin, search_clear):
    client = login(admin)
    res = _post(client, BODY)
    assert res.status_code == 201
    workflow = res.json
    assert workflow["status"] == "created"
    assert workflow["owner"] == {"user": str(admin.id)}

    res = client.get(f"/workflows/{workflow['id']}/tasks", headers=HEADERS)
    assert res.status_code == 200
    hits = res.json["hits"]["hits"]
    assert res.json["hits"]["total"] == 4
    assert {t["status"] for t in hits} == {"pending"}
    extract, add_a, add_b, collect = hits
    assert extract["parents"] == []
    assert add_a["parents"] == add_b["parents"] == [extract["id"]]
    assert collect["parents"] == [add_a["id"], add_b["id"]]
    assert extract["links"]["self"].endswith(
        f"/workflows/{workflow['id']}/tasks/{extract['id']}"
    )

    res = client.get(_path(extract["links"]["self"]), headers=HEADERS)
    assert res.status_code == 200
    assert res.json["key"] == extract["key"]


def test_search_by_status_and_name_with_aggregations(login, admin, search_clear):
    client = login(admin)
    created = _post(client, BODY).json
    _post(client, {"name": "sums"})
    _refresh()
    res = client.get("/workflows?status=created&name=pdf-plots", headers=HEADERS)
    assert res.status_code == 200
    assert [h["id"] for h in res.json["hits"]["hits"]] == [created["id"]]
    aggs = res.json["aggregations"]
    assert {b["key"] for b in aggs["status"]["buckets"]} == {"created"}
    assert {b["key"] for b in aggs["name"]["buckets"]} == {"pdf-plots", "sums"}
    assert res.json["sortBy"] == "newest"
    assert "self" in res.json["links"]

    res = client.get(f"/tasks?workflow_id={created['id']}", headers=HEADERS)
    assert res.status_code == 200
    assert res.json["hits"]["total"] == 4
    res = client.get("/tasks?status=pending&name=tests.mock_module.tasks.pages")
    assert res.json["hits"]["total"] == 2
    res = client.get("/tasks?status=succeeded")
    assert res.json["hits"]["total"] == 0


def test_idempotent_replay_is_200(login, admin, search_clear):
    client = login(admin)
    body = dict(BODY, idempotency_key="deposit-7")
    first = _post(client, body)
    again = _post(client, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]


def test_task_saved_three_times_has_three_revisions(login, admin, db, search_clear):
    client = login(admin)
    workflow = _post(client, BODY).json
    task = TaskRecord.get_workflow_tasks(workflow["id"])[0]
    for status in ("queued", "running"):
        task["status"] = status
        task.commit()
        db.session.commit()
    res = client.get(
        f"/workflows/{workflow['id']}/tasks/{task.id}/revisions", headers=HEADERS
    )
    assert res.status_code == 200
    hits = res.json["hits"]["hits"]
    assert res.json["hits"]["total"] == 3
    assert [h["status"] for h in hits] == ["running", "queued", "pending"]
    assert [h["revision_id"] for h in hits] == sorted(
        [h["revision_id"] for h in hits], reverse=True
    )

    res = client.get(f"/workflows/{workflow['id']}/revisions", headers=HEADERS)
    assert res.status_code == 200
    assert res.json["hits"]["total"] == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "does-not-exist"}, "name"),
        ({}, "name"),
        ({"name": 42}, "name"),
        ({"name": "pdf-plots", "params": {"dpi": 10}}, "params"),
        ({"name": "pdf-plots", "params": "dpi"}, "params"),
        ({"name": "sums", "colour": "red"}, "colour"),
        ({"name": "sums", "subject": {"type": "record"}}, "subject"),
        ({"name": "sums", "idempotency_key": ""}, "idempotency_key"),
    ],
)
def test_bad_create_bodies_are_400_with_field_errors(
    login, admin, search_clear, body, field
):
    client = login(admin)
    res = _post(client, body)
    assert res.status_code == 400
    assert res.json["status"] == 400
    fields = [e["field"] for e in res.json["errors"]]
    assert any(f.startswith(field) for f in fields), res.json
    _refresh()
    assert client.get("/workflows", headers=HEADERS).json["hits"]["total"] == 0


def test_malformed_and_non_object_json_are_400(login, admin, search_clear):
    client = login(admin)
    res = client.post("/workflows", data="{not json", headers=HEADERS)
    assert res.status_code == 400
    res = client.post("/workflows", data="[1, 2]", headers=HEADERS)
    assert res.status_code == 400


def test_body_over_the_limit_is_413(login, admin, search_clear):
    client = login(admin)
    body = dict(BODY, params={"file_id": "x" * 70000})
    res = _post(client, body)
    assert res.status_code == 413
    assert res.json["status"] == 413


def test_unknown_ids_are_404(login, admin, search_clear):
    client = login(admin)
    workflow = _post(client, BODY).json
    missing = str(uuid.uuid4())
    for url in (
        f"/workflows/{missing}",
        "/workflows/not-a-uuid",
        f"/workflows/{missing}/revisions",
        f"/workflows/{missing}/tasks",
        f"/workflows/{workflow['id']}/tasks/{missing}",
        f"/workflows/{workflow['id']}/tasks/not-a-uuid",
        f"/workflows/{missing}/tasks/{missing}/revisions",
    ):
        res = client.get(url, headers=HEADERS)
        assert res.status_code == 404, url
        assert res.json["status"] == 404


def test_task_of_another_workflow_is_404(login, admin, search_clear):
    client = login(admin)
    first = _post(client, BODY).json
    second = _post(client, BODY).json
    task = TaskRecord.get_workflow_tasks(second["id"])[0]
    res = client.get(f"/workflows/{first['id']}/tasks/{task.id}", headers=HEADERS)
    assert res.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "sort=nonsense",
        "size=0",
        "size=100000",
        "page=0",
        "page=abc",
        "page=1000&size=1000",
    ],
)
def test_bad_search_arguments_are_400(login, admin, search_clear, query):
    client = login(admin)
    res = client.get(f"/workflows?{query}", headers=HEADERS)
    assert res.status_code == 400, res.json
    res = client.get(f"/tasks?{query}", headers=HEADERS)
    assert res.status_code == 400, res.json


def test_bad_subject_filter_is_400(login, admin, search_clear):
    res = login(admin).get("/workflows?subject=no-colon", headers=HEADERS)
    assert res.status_code == 400
    assert res.json["errors"][0]["field"] == "subject"


@pytest.mark.parametrize(
    "query", ["status:(unbalanced", "name:/[/", "created:[x TO y]", "*:*:*", "a" * 3000]
)
def test_odd_queries_are_never_a_500(login, admin, search_clear, query):
    client = login(admin)
    _post(client, BODY)
    _refresh()
    for path in ("/workflows", "/tasks"):
        res = client.get(path, query_string={"q": query}, headers=HEADERS)
        assert res.status_code in (200, 400), (path, query, res.json)


def test_anonymous_is_401_other_user_is_403(
    client, users, workflows_service, search_clear, login
):
    owner = users["owner"]
    item = workflows_service.create(
        system_identity, BODY, owner={"user": str(owner.id)}
    )
    for url in (
        f"/workflows/{item.id}",
        f"/workflows/{item.id}/tasks",
        f"/workflows/{item.id}/revisions",
    ):
        assert client.get(url, headers=HEADERS).status_code == 401, url
    assert _post(client, BODY).status_code == 401
    # A definition of the test config ("open-sums") lets everybody search
    # its workflows: anonymous searches answer, and find nothing else.
    _refresh()
    for url in ("/workflows", "/tasks"):
        res = client.get(url, headers=HEADERS)
        assert (res.status_code, res.json["hits"]["total"]) == (200, 0), url

    login(users["other"])
    assert client.get(f"/workflows/{item.id}", headers=HEADERS).status_code == 403
    assert client.get(f"/workflows/{item.id}/tasks").status_code == 403
    assert _post(client, BODY).status_code == 403
    _refresh()
    assert client.get("/workflows", headers=HEADERS).json["hits"]["total"] == 0
    assert client.get("/tasks", headers=HEADERS).json["hits"]["total"] == 0


def test_owner_reads_and_finds_own_workflow(
    client, users, workflows_service, search_clear, login
):
    owner = users["owner"]
    mine = workflows_service.create(
        system_identity, BODY, owner={"user": str(owner.id)}
    )
    workflows_service.create(system_identity, BODY)
    _refresh()
    login(owner)
    assert client.get(f"/workflows/{mine.id}", headers=HEADERS).status_code == 200
    res = client.get("/workflows", headers=HEADERS)
    assert [h["id"] for h in res.json["hits"]["hits"]] == [mine.id]
    res = client.get("/tasks", headers=HEADERS)
    assert res.json["hits"]["total"] == 4
    assert {h["workflow_id"] for h in res.json["hits"]["hits"]} == {mine.id}

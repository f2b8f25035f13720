# SPDX-License-Identifier: MIT
"""The workflows service: create, read, search, permissions."""

import pytest
from invenio_access.permissions import system_identity
from invenio_records_resources.services.errors import PermissionDeniedError
from invenio_search import current_search
from marshmallow import ValidationError

from invenio_workflow_records.records import WorkflowRecord
from invenio_workflow_records.records.models import WorkflowMetadata


def _refresh():
    current_search.flush_and_refresh("workflows")


def test_create_plans_pending_tasks(create_workflow, tasks_service, users):
    item = create_workflow(owner=users["owner"])
    workflow = item.to_dict()
    assert workflow["status"] == "created"
    assert workflow["run"] == 0
    assert workflow["params"] == {"file_id": "f-1", "dpi": 300}
    assert workflow["owner"] == {"user": str(users["owner"].id)}
    assert workflow["task_counts"] == {"pending": 4}
    assert workflow["title"] == "PDF plot extraction"
    assert workflow["links"]["self"].endswith(f"/workflows/{workflow['id']}")

    tasks = tasks_service.list(system_identity, workflow["id"]).to_dict()
    hits = tasks["hits"]["hits"]
    assert tasks["hits"]["total"] == 4
    assert [t["status"] for t in hits] == ["pending"] * 4
    extract, add_a, add_b, collect = hits
    assert extract["name"] == "tests.mock_module.tasks.extract"
    assert extract["parents"] == []
    assert add_a["parents"] == [extract["id"]] == add_b["parents"]
    assert collect["parents"] == [add_a["id"], add_b["id"]]
    assert len({t["key"] for t in hits}) == 4


def test_create_plain_canvas_definition(create_workflow, tasks_service):
    workflow = create_workflow(name="sums", params={}).to_dict()
    assert workflow["title"] == "Sums"
    hits = tasks_service.list(system_identity, workflow["id"]).to_dict()["hits"]
    first, second = hits["hits"]
    assert first["args"] == [1, 2]
    assert second["parents"] == [first["id"]]


def test_unknown_name_is_a_field_error(workflows_service, db):
    with pytest.raises(ValidationError) as error:
        workflows_service.create(system_identity, {"name": "nope"})
    assert "name" in error.value.messages
    assert WorkflowMetadata.query.count() == 0


def test_invalid_params_list_every_field(workflows_service, db):
    with pytest.raises(ValidationError) as error:
        workflows_service.create(
            system_identity, {"name": "pdf-plots", "params": {"dpi": 10}}
        )
    fields = error.value.messages
    assert any("dpi" in field for field in fields)
    assert any("file_id" in field or field == "params" for field in fields)
    assert WorkflowMetadata.query.count() == 0


def test_unknown_body_key_is_rejected(workflows_service, db):
    with pytest.raises(ValidationError) as error:
        workflows_service.create(system_identity, {"name": "sums", "colour": "red"})
    assert "colour" in error.value.messages


def test_idempotent_create_returns_the_first(create_workflow):
    first = create_workflow(idempotency_key="deposit-42")
    again = create_workflow(idempotency_key="deposit-42")
    other = create_workflow(idempotency_key="deposit-43")
    assert first.created is True
    assert again.created is False
    assert again.id == first.id
    assert other.id != first.id
    assert WorkflowMetadata.query.count() == 2


def test_search_facets_filters_and_sorts(create_workflow, workflows_service):
    create_workflow(subject={"type": "record", "id": "abc"})
    create_workflow(name="sums", params={})
    create_workflow(name="sums", params={}, subject={"type": "record", "id": "xyz"})
    _refresh()

    result = workflows_service.search(
        system_identity, params={"facets": {"status": ["created"]}}
    ).to_dict()
    assert result["hits"]["total"] == 3
    names = {
        b["key"]: b["doc_count"] for b in result["aggregations"]["name"]["buckets"]
    }
    assert names == {"pdf-plots": 1, "sums": 2}
    statuses = result["aggregations"]["status"]["buckets"]
    assert [(b["key"], b["doc_count"]) for b in statuses] == [("created", 3)]

    by_name = workflows_service.search(
        system_identity, params={"facets": {"name": ["sums"]}}
    )
    assert by_name.total == 2

    by_subject = workflows_service.search(system_identity, subject="record:xyz")
    assert [hit["subject"]["id"] for hit in by_subject] == ["xyz"]

    for sort in ("newest", "oldest", "updated", "name"):
        hits = list(workflows_service.search(system_identity, sort=sort))
        assert len(hits) == 3
    by_name_sort = [
        h["name"] for h in workflows_service.search(system_identity, sort="name")
    ]
    assert by_name_sort == sorted(by_name_sort)


def test_bad_subject_filter(workflows_service, db, search_clear):
    with pytest.raises(ValidationError):
        workflows_service.search(system_identity, subject="no-colon")


def test_owner_reads_other_user_does_not(
    create_workflow, workflows_service, owner_identity, other_identity, users
):
    workflow_id = create_workflow(owner=users["owner"]).id
    assert workflows_service.read(owner_identity, workflow_id).id == workflow_id
    with pytest.raises(PermissionDeniedError):
        workflows_service.read(other_identity, workflow_id)


def test_search_shows_users_only_their_workflows(
    create_workflow, workflows_service, owner_identity, other_identity, users
):
    mine = create_workflow(owner=users["owner"]).id
    create_workflow()  # owned by the system
    _refresh()
    assert [h["id"] for h in workflows_service.search(owner_identity)] == [mine]
    assert workflows_service.search(other_identity).total == 0
    assert workflows_service.search(system_identity).total == 2


def test_users_cannot_create_by_default(workflows_service, owner_identity, db):
    with pytest.raises(PermissionDeniedError):
        workflows_service.create(
            owner_identity, {"name": "pdf-plots", "params": {"file_id": "x"}}
        )


def test_read_revisions_newest_first(create_workflow, workflows_service, db):
    item = create_workflow()
    workflow = WorkflowRecord.get_record(item.id)
    workflow["message"] = "first"
    workflow.commit()
    db.session.commit()
    workflow["message"] = "second"
    workflow.commit()
    db.session.commit()
    revisions = workflows_service.read_revisions(system_identity, item.id).to_dict()
    hits = revisions["hits"]["hits"]
    assert revisions["hits"]["total"] == 3
    assert [h.get("message") for h in hits] == ["second", "first", None]
    ids = [h["revision_id"] for h in hits]
    assert ids == sorted(ids, reverse=True)

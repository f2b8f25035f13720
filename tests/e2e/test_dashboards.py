# SPDX-License-Identifier: MIT
"""The workflow dashboards in headless Chromium, against a running site.

Everything is real (see ``site.py``): invenio-accounts' login form, the
REST API called by the pages with the session cookie and the CSRF header,
a Celery worker running the tasks, the search server behind the lists. Each
test checks what a user sees in the page and what ends up in the database.
"""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from .browser import log_in
from .users import ADMIN, PASSWORD, READER

WAIT = 30
"""Seconds any page state may take to appear."""


def wait_for(chromium, condition, timeout=WAIT, message=""):
    """Wait until ``condition(chromium)`` is truthy; its value."""
    return WebDriverWait(chromium, timeout, poll_frequency=0.2).until(
        condition, message
    )


def css(chromium, selector):
    """Elements matching ``selector``."""
    return chromium.find_elements(By.CSS_SELECTOR, selector)


def login(chromium, site, email):
    """Log in as ``email`` (the tests' password)."""
    log_in(chromium, site.url, email, PASSWORD)


def open_dashboard(chromium, site, workflow_id):
    """Open a workflow's dashboard and wait for its graph."""
    chromium.get(f"{site.url}/administration/workflows/{workflow_id}")
    wait_for(
        chromium,
        lambda b: css(b, ".workflow-dashboard g.workflow-graph-node"),
        message="dashboard graph",
    )


def dashboard_status(chromium):
    """The workflow status the dashboard shows."""
    roots = css(chromium, ".workflow-dashboard")
    return roots[0].get_attribute("data-status") if roots else None


def row_ids(chromium, selector=".workflow-row"):
    """The workflow ids of the list's rows."""
    return {row.get_attribute("data-workflow-id") for row in css(chromium, selector)}


def api_post_status(chromium, url):
    """HTTP status of a POST with the page's cookies but no CSRF header."""
    return chromium.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {method: 'POST', body: '{}', headers: "
        "{Accept: 'application/json', 'Content-Type': 'application/json'}})"
        ".then(r => done(r.status), e => done(String(e)));",
        url,
    )


def api_status(chromium, url):
    """HTTP status of a GET the page's own session makes (fetch, same cookies)."""
    return chromium.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {headers: {Accept: 'application/json'}})"
        ".then(r => done(r.status), e => done(String(e)));",
        url,
    )


@pytest.fixture(scope="module")
def seeded(site, actions, user_ids, tmp_path_factory):
    """Workflows of the admin (subject record:r-1) and one of the reader."""
    marker = tmp_path_factory.mktemp("markers") / "list-failed"
    marker.touch()
    r1 = {"type": "record", "id": "r-1"}
    ids = {
        "succeeded": actions.create("e2e-pipeline", subject=r1),
        "failed": actions.create("e2e-pipeline", {"marker": str(marker)}, subject=r1),
        "reader": actions.create(
            "e2e-pipeline",
            owner_id=user_ids[READER],
            subject={"type": "record", "id": "r-2"},
        ),
    }
    actions.wait_status(ids["succeeded"], {"succeeded"})
    actions.wait_status(ids["failed"], {"failed"})
    actions.wait_status(ids["reader"], {"succeeded"})
    actions.wait_indexed()
    return ids


def test_list_shows_workflows_and_status_facet_narrows_it(
    chromium, site, seeded, snap, console_errors
):
    """Admin: the list shows every workflow; the "failed" facet keeps the failed."""
    login(chromium, site, ADMIN)
    chromium.get(f"{site.url}/administration/workflows")
    wait_for(
        chromium,
        lambda b: set(seeded.values()) <= row_ids(b),
        message="all seeded workflows listed",
    )
    snap("workflows-list")
    facet = wait_for(
        chromium,
        lambda b: [
            label
            for label in css(b, ".ui.checkbox label")
            if label.text.split("\n")[0].strip() == "failed"
        ],
        message="status facet 'failed'",
    )
    facet[0].click()
    wait_for(
        chromium,
        lambda b: "status" in b.current_url
        and row_ids(b) == {seeded["failed"]}
        and {r.get_attribute("data-status") for r in css(b, ".workflow-row")}
        == {"failed"},
        message="only the failed workflow listed",
    )
    assert not console_errors()


def test_detail_graph_has_one_node_per_task_with_its_status(
    chromium, site, seeded, actions, console_errors
):
    """Chain + group: 5 nodes with the database's statuses, 6 edges."""
    login(chromium, site, ADMIN)
    open_dashboard(chromium, site, seeded["failed"])
    tasks = {task["id"]: task["status"] for task in actions.tasks(seeded["failed"])}
    nodes = css(chromium, "g.workflow-graph-node")
    shown = {node.get_attribute("data-task-id"): node for node in nodes}
    assert set(shown) == set(tasks)
    for task_id, status in tasks.items():
        node = shown[task_id]
        assert node.get_attribute("data-status") == status
        assert f"status-{status}" in node.get_attribute("class").split()
    assert sorted(tasks.values()) == [
        "failed",
        "skipped",
        "succeeded",
        "succeeded",
        "succeeded",
    ]
    assert len(css(chromium, "path.workflow-graph-edge")) == 6
    # The failed task's panel shows its error and traceback.
    failed_id = next(t for t, s in tasks.items() if s == "failed")
    shown[failed_id].click()
    error = wait_for(
        chromium,
        lambda b: css(
            b, f".workflow-task-panel[data-task-id='{failed_id}'] .workflow-task-error"
        ),
        message="task error panel",
    )[0]
    assert "ConversionFailed" in error.text
    assert "Traceback" in css(chromium, "pre.workflow-task-traceback")[0].get_attribute(
        "textContent"
    )
    assert not console_errors()


def test_stop_running_workflow_from_the_page(chromium, site, actions, console_errors):
    """Stop → confirm: the database says ``stopped``, and so does the page."""
    workflow_id = actions.create("e2e-slow", {"seconds": 600})
    actions.wait_status(workflow_id, {"running"})
    login(chromium, site, ADMIN)
    open_dashboard(chromium, site, workflow_id)
    assert dashboard_status(chromium) == "running"
    # The same session without the CSRF header is refused, and changes nothing.
    stop_link = actions.workflow(workflow_id)["links"]["stop"]
    assert api_post_status(chromium, stop_link) == 400
    assert actions.workflow(workflow_id)["status"] == "running"
    console_errors()  # that refusal is expected in the console
    css(chromium, "button.workflow-action-stop")[0].click()
    confirm = wait_for(
        chromium,
        lambda b: css(b, ".workflow-action-modal button.workflow-action-confirm"),
        message="stop confirmation",
    )
    confirm[0].click()
    workflow = actions.wait_status(workflow_id, {"stopped"}, timeout=WAIT)
    assert workflow["status"] == "stopped"
    wait_for(
        chromium, lambda b: dashboard_status(b) == "stopped", message="page stopped"
    )
    assert not css(chromium, "button.workflow-action-stop")
    assert not console_errors()


def test_restart_failed_task_with_downstream_previews_then_turns_green(
    chromium, site, actions, tmp_path, console_errors, snap
):
    """The dry run lists convert and publish; the run then succeeds by itself."""
    marker = tmp_path / "convert-fails"
    marker.touch()
    workflow_id = actions.create("e2e-pipeline", {"marker": str(marker)})
    actions.wait_status(workflow_id, {"failed"})
    tasks = {task["short_name"]: task for task in actions.tasks(workflow_id)}
    marker.unlink()  # the converter works again

    login(chromium, site, ADMIN)
    open_dashboard(chromium, site, workflow_id)
    css(chromium, f"g.workflow-graph-node[data-task-id='{tasks['convert']['id']}']")[
        0
    ].click()
    wait_for(chromium, lambda b: css(b, "button.task-action-restart"))[0].click()
    wait_for(chromium, lambda b: css(b, ".task-restart-modal"), message="restart modal")
    toggle = css(chromium, ".task-restart-downstream")[0]
    if not toggle.find_element(By.TAG_NAME, "input").is_selected():
        toggle.find_element(By.TAG_NAME, "label").click()
    wait_for(
        chromium,
        lambda b: toggle.find_element(By.TAG_NAME, "input").is_selected()
        and css(b, ".task-restart-preview[data-loading='false']"),
        message="dry run with downstream",
    )
    preview = {
        item.get_attribute("data-task-id"): item.text.strip()
        for item in css(chromium, ".task-restart-preview-item")
    }
    assert preview == {
        tasks["convert"]["id"]: "convert",
        tasks["publish"]["id"]: "publish",
    }
    snap("task-restart-preview")
    # The dry run changed nothing.
    assert actions.workflow(workflow_id)["status"] == "failed"

    css(chromium, "button.task-restart-confirm")[0].click()
    wait_for(
        chromium,
        lambda b: dashboard_status(b) == "succeeded"
        and {n.get_attribute("data-status") for n in css(b, "g.workflow-graph-node")}
        == {"succeeded"},
        timeout=60,
        message="the page turned green by itself",
    )
    snap("workflow-detail")
    final = {task["short_name"]: task for task in actions.tasks(workflow_id)}
    assert actions.workflow(workflow_id)["status"] == "succeeded"
    assert final["convert"]["attempt"] == tasks["convert"]["attempt"] + 1
    # Upstream and siblings were not run again.
    assert final["prepare"]["attempt"] == tasks["prepare"]["attempt"]
    assert final["thumbnail"]["attempt"] == tasks["thumbnail"]["attempt"]
    assert not console_errors()


def test_user_without_rights_sees_no_actions_and_no_others_workflows(
    chromium, site, seeded, console_errors
):
    """The reader sees its own workflow, read-only, and nothing of the admin's."""
    login(chromium, site, READER)
    chromium.get(f"{site.url}/administration/workflows")
    wait_for(
        chromium,
        lambda b: row_ids(b) == {seeded["reader"]},
        message="only the reader's workflow listed",
    )
    open_dashboard(chromium, site, seeded["reader"])
    css(chromium, "g.workflow-graph-node")[0].click()
    wait_for(chromium, lambda b: css(b, ".workflow-task-panel"), message="panel")
    assert not css(chromium, "[class*='workflow-action-']")
    assert not css(chromium, "[class*='task-action-']")

    chromium.get(f"{site.url}/administration/workflows/{seeded['failed']}")
    wait_for(
        chromium,
        lambda b: css(b, ".workflow-dashboard-error"),
        message="no access to the admin's workflow",
    )
    assert not css(chromium, ".workflow-dashboard")
    assert api_status(chromium, f"{site.api_url}/workflows/{seeded['failed']}") == 403
    # The console shows the refused request; nothing else may fail.
    assert all("403" in entry["message"] for entry in console_errors())


def test_subject_widget_shows_only_its_subjects_workflows(
    chromium, site, seeded, console_errors
):
    """A host record page lists the workflows of ``record:r-1`` and no others."""
    login(chromium, site, ADMIN)
    chromium.get(f"{site.url}/e2e/records/r-1")
    wait_for(
        chromium,
        lambda b: row_ids(b, ".subject-workflow")
        == {seeded["succeeded"], seeded["failed"]},
        message="the subject's workflows",
    )
    statuses = {
        item.get_attribute("data-workflow-id"): item.get_attribute("data-status")
        for item in css(chromium, ".subject-workflow")
    }
    assert statuses == {seeded["succeeded"]: "succeeded", seeded["failed"]: "failed"}
    # The admin may act from the widget: the failed workflow offers resume.
    failed_item = css(
        chromium, f".subject-workflow[data-workflow-id='{seeded['failed']}']"
    )
    assert failed_item[0].find_elements(
        By.CSS_SELECTOR, "button.workflow-action-resume"
    )

    login(chromium, site, READER)
    chromium.get(f"{site.url}/e2e/records/r-2")
    wait_for(
        chromium,
        lambda b: row_ids(b, ".subject-workflow") == {seeded["reader"]},
        message="the reader's own workflow",
    )
    assert not css(chromium, "[class*='workflow-action-']")
    chromium.get(f"{site.url}/e2e/records/r-1")
    wait_for(
        chromium,
        lambda b: css(b, ".invenio-workflow-records-subject")
        and not css(b, ".invenio-workflow-records-subject .loader"),
        message="widget loaded",
    )
    assert not css(chromium, ".subject-workflow")
    assert not console_errors()

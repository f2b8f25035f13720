# SPDX-License-Identifier: MIT
"""Running the example workflows of the demo, and checking how they ended.

Everything goes through the services, as the system identity, like a host
module would: ``pdf-plots`` is created and started and must succeed;
``flaky-import`` is created and started with ``{"fail": true}`` and must
fail, then is resumed with ``{"fail": false}`` and must succeed, keeping the
result of its first task (which does not run again).

:meth:`Examples.summary` then prints where to see them: the REST API and,
when the demo serves the admin UI, its pages and the login of its
administrator (:class:`UiAdmin`).
"""

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from invenio_access.permissions import system_identity
from invenio_db import db

from ..proxies import current_tasks_service, current_workflows_service
from .access import curl_create_line, parse_curl_line
from .monitor import short_task_name


@dataclass
class UiAdmin:
    """The admin UI the demo serves at ``url``, and who may log in."""

    url: str
    email: str
    password: str

    @property
    def login_url(self):
        """The login page."""
        return f"{self.url}/login/"

    @property
    def dashboard_url(self):
        """The workflows dashboard (search page)."""
        return f"{self.url}/administration/workflows"

    @property
    def tasks_url(self):
        """The list of all tasks."""
        return f"{self.url}/administration/workflow-tasks"

    def workflow_url(self, workflow_id):
        """The detail page of one workflow."""
        return f"{self.dashboard_url}/{workflow_id}"


class Examples:
    """The two example runs, their checks and where to see them."""

    def __init__(self, monitor, out):
        """Examples that report through ``monitor`` and print to ``out``."""
        self.monitor = monitor
        self.out = out
        self.problems = []
        self.ids = {}
        self.curl_line = None

    def say(self, text=""):
        """Print a line."""
        print(text, file=self.out, flush=True)

    def create(self, name, params):
        """Create and start a workflow; track it."""
        try:
            item = current_workflows_service.create(
                system_identity, {"name": name, "params": params, "start": True}
            )
            workflow_id = str(item.id)
        finally:
            db.session.remove()  # hold no SQLite lock while the worker runs
        self.ids[name] = workflow_id
        self.monitor.track(workflow_id, name)
        return workflow_id

    @staticmethod
    def read(workflow_id):
        """The workflow as the service returns it (a dict)."""
        db.session.remove()
        try:
            return current_workflows_service.read(
                system_identity, workflow_id
            ).to_dict()
        finally:
            db.session.remove()

    @staticmethod
    def tasks(workflow_id):
        """The workflow's tasks by short name (dicts)."""
        db.session.remove()
        try:
            hits = current_tasks_service.list(system_identity, workflow_id).to_dict()
        finally:
            db.session.remove()
        return {short_task_name(task["name"]): task for task in hits["hits"]["hits"]}

    def expect(self, condition, problem):
        """Record ``problem`` unless ``condition`` holds."""
        if not condition:
            self.problems.append(problem)
        return condition

    def run(self, deadline):
        """Run both examples to the end; return the list of problems."""
        self.say("Running the examples (times since the first start):")
        pdf = self.create("pdf-plots", {"file_id": "arXiv-2401.00001.pdf"})
        flaky = self.create("flaky-import", {"record_id": "rec-42", "fail": True})
        self.monitor.wait(
            lambda: self.monitor.finished(pdf) and self.monitor.finished(flaky),
            deadline,
        )
        self.expect(
            self.monitor.status(pdf) == "succeeded",
            f"pdf-plots ended {self.monitor.status(pdf)}, expected succeeded",
        )
        if not self.expect(
            self.monitor.status(flaky) == "failed",
            f"flaky-import's first run ended {self.monitor.status(flaky)}, "
            "expected failed",
        ):
            return self.problems
        first = self.tasks(flaky)["fetch_metadata"]

        self.say()
        self.say('flaky-import failed as planned: resuming it with {"fail": false}')
        try:
            current_workflows_service.resume(
                system_identity, flaky, {"params": {"fail": False}}
            )
        finally:
            db.session.remove()
        self.monitor.wait(lambda: self.monitor.finished(flaky), deadline)
        self.expect(
            self.monitor.status(flaky) == "succeeded",
            f"flaky-import ended {self.monitor.status(flaky)} after the resume, "
            "expected succeeded",
        )
        kept = self.tasks(flaky)["fetch_metadata"]
        self.expect(
            kept.get("attempt") == first.get("attempt")
            and kept.get("result") == first.get("result"),
            "the resume ran fetch_metadata again instead of keeping its result",
        )
        return self.problems

    def summary(self, api_url, api_user=None, ui_admin=None):
        """Print the final statuses, the URLs to query and a ``curl`` line.

        With ``api_user`` (see :mod:`.access`), the ``curl`` line creates and
        starts a workflow with the user's token; it is kept as
        ``self.curl_line`` for :meth:`check_api`. With ``ui_admin`` (a
        :class:`UiAdmin`), the admin pages and their login come last. Returns
        the REST URLs.
        """
        self._print_statuses()
        urls = self._print_rest_urls(api_url)
        if api_user is not None:
            self.curl_line = curl_create_line(api_url, api_user.token)
            self.say()
            self.say(
                f"Create and start a workflow as {api_user.email}, a workflow "
                "administrator of the demo (personal access token):"
            )
            self.say(f"  {self.curl_line}")
        if ui_admin is not None:
            self._print_admin_pages(ui_admin)
        return urls

    def _print_statuses(self):
        """The status, task counts and last result of each example."""
        self.say()
        self.say("Final statuses:")
        for name, workflow_id in self.ids.items():
            workflow = self.read(workflow_id)
            counts = ", ".join(
                f"{count} {status}"
                for status, count in sorted(workflow.get("task_counts", {}).items())
            )
            self.say(
                f"  {name:<13} {workflow['status']:<10} run {workflow['run']}  "
                f"tasks: {counts}  id {workflow_id}"
            )
        for name, workflow_id in self.ids.items():
            result = self.tasks(workflow_id)
            last = list(result.values())[-1] if result else {}
            self.say(
                f"  {name} result: {json.dumps(last.get('result'), sort_keys=True)}"
            )

    def _print_rest_urls(self, api_url):
        """``curl`` lines for the REST API's URLs of the examples; the URLs."""
        flaky = self.ids.get("flaky-import")
        some_task = next(iter(self.tasks(flaky).values()), {}) if flaky else {}
        self.say()
        self.say(
            "REST API (anonymous reads allowed by the demo-only permission policy):"
        )
        urls = [f"{api_url}/workflows", f"{api_url}/tasks?status=succeeded"]
        for name, workflow_id in self.ids.items():
            urls += [
                f"{api_url}/workflows/{workflow_id}",
                f"{api_url}/workflows/{workflow_id}/tasks",
                f"{api_url}/workflows/{workflow_id}/revisions",
            ]
        if some_task:
            urls.append(
                f"{api_url}/workflows/{flaky}/tasks/{some_task['id']}/revisions"
            )
        for url in urls:
            self.say(f"  curl {url}")
        return urls

    def _print_admin_pages(self, ui_admin):
        """The admin pages, each example's among them, and how to log in."""
        self.say()
        self.say("Admin UI (log in as this workflow administrator of the demo):")
        self.say(f"  {'email':<13} {ui_admin.email}")
        self.say(f"  {'password':<13} {ui_admin.password}")
        self.say(f"  {'login':<13} {ui_admin.login_url}")
        self.say(f"  {'dashboard':<13} {ui_admin.dashboard_url}")
        self.say(f"  {'tasks':<13} {ui_admin.tasks_url}")
        for name, workflow_id in self.ids.items():
            self.say(f"  {name:<13} {ui_admin.workflow_url(workflow_id)}")

    def check_api(self, urls, deadline):
        """GET each URL anonymously, then run the printed ``curl`` line.

        A problem for any GET answered otherwise than 200; the ``curl`` line
        (sent without ``curl``, see :func:`.access.parse_curl_line`) must
        answer 201 with its token and 401 without it, and the workflow it
        created must succeed before ``deadline``.
        """
        self.say()
        self.say("Checking the REST API (anonymous GET):")
        access_log = logging.getLogger("werkzeug")
        level = access_log.level
        access_log.setLevel(logging.WARNING)
        try:
            self._check_urls(urls)
            if self.curl_line:
                self._check_curl_line(self.curl_line, deadline)
        finally:
            access_log.setLevel(level)

    @staticmethod
    def _send(method, url, headers=None, body=None):
        """``(status code, JSON body)`` of one request (errors as codes)."""
        request = urllib.request.Request(
            url, data=body, headers=headers or {}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, {}
        except (OSError, ValueError) as error:
            return f"error ({error})", {}

    def _check_urls(self, urls):
        for url in urls:
            code, body = self._send("GET", url)
            total = (body.get("hits") or {}).get("total") if body else None
            detail = f" ({total} hits)" if total is not None else ""
            self.say(f"  GET {url} -> {code}{detail}")
            self.expect(code == 200, f"GET {url} answered {code}, expected 200")

    def _check_curl_line(self, line, deadline):
        method, url, headers, body = parse_curl_line(line)
        self.say()
        self.say("Running the curl line above:")
        anonymous = {k: v for k, v in headers.items() if k != "Authorization"}
        code, _ = self._send(method, url, anonymous, body)
        self.say(f"  {method} {url} without the token -> {code}")
        self.expect(code == 401, f"{method} {url} without a token answered {code}")
        code, created = self._send(method, url, headers, body)
        detail = ""
        if code == 201:
            detail = f" (workflow {created.get('id')}, {created.get('status')})"
        self.say(f"  {method} {url} with the token -> {code}{detail}")
        if not self.expect(code == 201, f"the curl line answered {code}, not 201"):
            return
        self.monitor.track(created["id"], "curl")
        self.monitor.wait(lambda: self.monitor.finished(created["id"]), deadline)
        status = self.monitor.status(created["id"])
        self.expect(
            status == "succeeded",
            f"the workflow created by the curl line ended {status}",
        )
        self.say(f"  the workflow created with the token ended {status}")

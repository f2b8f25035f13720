# SPDX-License-Identifier: MIT
"""Property-based fuzzing of every route of the REST API.

Thousands of generated requests (odd bodies, query strings, ids and headers,
as an administrator and anonymously) against every rule the module's
blueprints register. Whatever the request, the answer is never a 5xx, never
shows a traceback, every error is a JSON body with its ``status``, and a
rejected (4xx) request leaves the workflow and task tables, and their version
tables, as they were. Runs are derandomized: CI sees the same requests.
"""

import json
import re
import time
from collections import Counter
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from invenio_access.permissions import system_identity
from sqlalchemy import text

from invenio_workflow_records.records import TaskRecord

BLUEPRINTS = ("workflows", "workflow_tasks")
METHODS = ("GET", "POST", "PUT", "DELETE")
KNOWN_RULES = (
    "/workflows",
    "/workflows/<id>",
    "/workflows/<id>/revisions",
    "/workflows/<id>/actions/<action>",
    "/workflows/<id>/tasks",
    "/workflows/<id>/tasks/<task_id>",
    "/workflows/<id>/tasks/<task_id>/revisions",
    "/workflows/<id>/tasks/<task_id>/actions/<action>",
    "/tasks",
)
"""Rules the fuzzer must find; any other rule of the blueprints is fuzzed too."""
TABLES = (
    "workflows_workflow",
    "workflows_workflow_version",
    "workflows_task",
    "workflows_task_version",
)
COUNT_ROWS = text(
    "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in TABLES)
)
MIN_REQUESTS = 2000
"""Requests the module must send per run, over all its tests."""

EXAMPLES = {"bodies": 1000, "urls": 700, "headers": 400}
"""Requests (one per generated example) of each test of the module."""
assert sum(EXAMPLES.values()) >= MIN_REQUESTS

SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

REQUESTS = Counter()
"""Requests sent by this module, by caller."""

STATUSES = Counter()
"""Answers received by this module, by status class (``2xx``, ``4xx``...)."""

# --- Strategies ------------------------------------------------------------

ODD_CHARACTERS = st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\ufeff", "\u2028", "\U0001f600", "\\", '"', "é"]
)
odd_text = st.text(
    alphabet=st.one_of(st.characters(codec=None), ODD_CHARACTERS), max_size=20
)
"""Text with NUL, lone surrogates and other characters that are easy to mishandle."""

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, odd_text),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(odd_text, children, max_size=4),
    ),
    max_leaves=12,
)
"""JSON-like values, NaN, Infinity, NUL and lone surrogates included."""

NAMES = ["sums", "failing", "pdf-plots", "not-a-workflow", "", "SUMS"]
valid_params = st.fixed_dictionaries(
    {},
    optional={
        "file_id": st.one_of(st.just("f-1"), odd_text),
        "dpi": st.one_of(st.integers(min_value=0, max_value=600), json_values),
    },
)
shaped_bodies = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.sampled_from(NAMES), odd_text, json_values),
        "params": st.one_of(valid_params, json_values),
        "idempotency_key": st.one_of(st.sampled_from(["k-1", "k-2"]), odd_text),
        "subject": st.one_of(
            st.fixed_dictionaries({"type": odd_text, "id": odd_text}), json_values
        ),
        "start": st.one_of(st.booleans(), json_values),
        "downstream": st.one_of(st.booleans(), json_values),
        "dry_run": st.one_of(st.booleans(), json_values),
        "extra": json_values,
    },
)
"""Bodies shaped like the API's, to get past the first validation."""


valid_bodies = st.one_of(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["sums", "failing"])},
        optional={
            "idempotency_key": st.sampled_from(["k-1", "k-2"]),
            "start": st.booleans(),
            "params": st.just({}),
        },
    ),
    st.fixed_dictionaries({}, optional={"params": st.just({})}),
    st.fixed_dictionaries(
        {}, optional={"dry_run": st.booleans(), "downstream": st.booleans()}
    ),
)
"""Bodies the API accepts, on the right route, to reach past validation."""


def _dump(value, ensure_ascii=True):
    """``value`` as JSON bytes; lone surrogates become UTF-8 encoded ones."""
    text = json.dumps(value, ensure_ascii=ensure_ascii, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def nested_bodies(draw):
    """Arrays or objects nested up to thousands of levels deep."""
    depth = draw(st.integers(min_value=1, max_value=3000))
    if draw(st.booleans()):
        inner = "[" * depth + "1" + "]" * depth
    else:
        inner = '{"a": ' * depth + "1" + "}" * depth
    return f'{{"name": "sums", "params": {{"x": {inner}}}}}'.encode()


@st.composite
def mangled_bodies(draw):
    """Valid JSON with bytes cut out or invalid UTF-8 spliced in."""
    raw = _dump(draw(shaped_bodies), ensure_ascii=draw(st.booleans()))
    at = draw(st.integers(min_value=0, max_value=len(raw)))
    junk = draw(
        st.one_of(
            st.sampled_from(
                [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf"]
            ),
            st.binary(max_size=4),
        )
    )
    if draw(st.booleans()):
        return raw[:at] + junk + raw[at:]
    return raw[:at]


literal_bodies = st.sampled_from(
    [
        b'{"name": "sums", "params": {"x": NaN}}',
        b'{"name": "sums", "params": {"x": -Infinity}}',
        b'{"name": "sums", "params": {"x": 1e400}}',
        b'{"name": "sums", "params": {"x": ' + b"7" * 5000 + b"}}",
        b'{"name": "sums", "params": {"x\\u0000": 1}}',
        b'{"name": "sums", "idempotency_key": "\\u0000"}',
        b'{"name": "sums", "params": {"x": "\\udc80"}}',
        b'{"params": {"x": "\\ud83d\\ude00"}}',
        b"\xef\xbb\xbf{}",
        b"{}",
        b"[]",
        b"null",
        b'"x"',
        b"  ",
        b"{",
        b"[" + b"1," * 40000 + b"1]",  # over the 64 KiB the tests allow: 413
    ]
)
bodies = st.one_of(
    st.none(),
    valid_bodies.map(_dump),
    literal_bodies,
    shaped_bodies.map(_dump),
    shaped_bodies.map(lambda body: _dump(body, ensure_ascii=False)),
    json_values.map(_dump),
    nested_bodies(),
    mangled_bodies(),
    st.binary(max_size=64),
)

query_keys = st.sampled_from(
    [
        *("page", "size", "sort", "q", "status", "subject", "name", "workflow_id"),
        *("created_after", "created_before", "started_at_after", "finished_at_before"),
        "x",
    ]
)
query_values = st.one_of(
    st.sampled_from(
        ["1", "0", "-1", "1000", "1001", "nan", "inf", "1e3", "99999999999999999999"]
    ),
    st.sampled_from(["newest", "oldest", "bestmatch", "created", "record:1", ":"]),
    st.sampled_from(["status:(", "*", "a AND", '"', "\\", "/", "name:[a TO", "~"]),
    st.sampled_from(
        ["2024-01-01", "2024-01-01T00:00:00+14:00", "0001-01-01", "9999-12-31T23:59"]
    ),
    st.sampled_from(["99999-01-01", "2024-13-45", "1e9", "2024-01-01T25:00"]),
    odd_text,
)


@st.composite
def query_strings(draw):
    """A query string of odd pairs, some keys repeated, some bytes not UTF-8."""
    pairs = draw(st.lists(st.tuples(query_keys, query_values), max_size=4))
    parts = [
        quote(key, safe="") + "=" + quote(value, safe="", errors="surrogatepass")
        for key, value in pairs
    ]
    if draw(st.booleans()):
        parts.append("q=" + quote_from_bytes(draw(st.binary(max_size=6)), safe=""))
    return "&".join(parts)


content_types = st.sampled_from(
    [
        "application/json",
        "application/json",
        None,
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/vnd.inveniordm.v1+json",
        "",
        "garbage",
    ]
)
accepts = st.sampled_from(
    [
        "application/json",
        None,
        "*/*",
        "text/html",
        "application/xml",
        "text/html;q=0.9, application/json;q=0.1",
        "garbage",
    ]
)


def _without_task_tracebacks(value):
    """``value`` without the ``error.traceback`` that failed tasks record."""
    if isinstance(value, list):
        return [_without_task_tracebacks(item) for item in value]
    if isinstance(value, dict):
        return {
            key: (
                {k: v for k, v in item.items() if k != "traceback"}
                if key == "error" and isinstance(item, dict)
                else _without_task_tracebacks(item)
            )
            for key, item in value.items()
        }
    return value


# --- The client --------------------------------------------------------------


class Fuzzer:
    """Sends requests and checks every answer; knows ids worth sending."""

    def __init__(self, app, db, clients, tasks):
        """Fuzzer over ``clients`` (by caller); ``tasks`` by workflow id."""
        self.db = db
        self.clients = clients
        self.tasks = tasks
        self.rules = {}
        for rule in app.url_map.iter_rules():
            if rule.endpoint.split(".")[0] in BLUEPRINTS:
                self.rules.setdefault(rule.rule, set()).update(rule.methods)
        self.rules = {
            rule: sorted(methods & set(METHODS))
            for rule, methods in sorted(self.rules.items())
        }
        assert set(KNOWN_RULES) <= set(self.rules), self.rules
        self.counts = self.row_counts()

    def row_counts(self):
        """Rows of the workflow and task tables and their version tables."""
        return tuple(self.db.session.execute(COUNT_ROWS).one())

    def requests(self, methods=METHODS):
        """Strategy of ``(method, path)``: the module's routes, ids filled in.

        Mostly a method the rule serves, sometimes one it does not (405);
        mostly ids that exist (a task of its own workflow, or of another),
        sometimes unknown UUIDs or garbage.
        """
        served = [
            (m, rule) for rule, ms in self.rules.items() for m in ms if m in methods
        ]
        any_method = [(m, rule) for rule in self.rules for m in methods]
        garbage = odd_text.filter(bool)
        actions = st.one_of(
            st.sampled_from(["start", "stop", "restart", "resume"]), garbage
        )

        @st.composite
        def build(draw):
            pairs = served if draw(st.integers(0, 4)) else any_method
            method, rule = draw(st.sampled_from(pairs))
            kind = draw(st.sampled_from(["known", "known", "known", "uuid", "junk"]))
            if kind == "known":
                workflow_id = draw(st.sampled_from(sorted(self.tasks)))
                tasks = self.tasks[workflow_id]
                if draw(st.integers(0, 3)) == 0:
                    tasks = [t for ts in self.tasks.values() for t in ts]
                task_id = draw(st.sampled_from(tasks))
            elif kind == "uuid":
                workflow_id = str(draw(st.uuids()))
                task_id = str(draw(st.uuids()))
            else:
                workflow_id, task_id = draw(garbage), draw(garbage)
            values = {"id": workflow_id, "task_id": task_id}

            def fill(match):
                name = match.group(1)
                value = values[name] if name in values else draw(actions)
                return quote(value, safe="", errors="surrogatepass")

            return method, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", fill, rule)

        return build()

    def send(
        self, who, method, url, query="", body=None, content_type=None, accept=None
    ):
        """Send one request and check its answer against the invariants."""
        headers = {}
        if content_type is not None:
            headers["content-type"] = content_type
        if accept is not None:
            headers["accept"] = accept
        target = f"{url}?{query}" if query else url
        before = self.counts
        res = self.clients[who].open(target, method=method, data=body, headers=headers)
        status = res.status_code
        REQUESTS[who] += 1
        STATUSES[f"{status // 100}xx"] += 1
        raw = res.get_data()
        context = f"{method} {target} as {who} -> {status}: {raw[:500]!r}"
        assert status < 500, context
        self.counts = self.row_counts()
        if status < 400:
            # Failed tasks keep their own traceback; nothing else may show one.
            shown = raw
            if res.mimetype == "application/json" and raw:
                shown = json.dumps(_without_task_tracebacks(json.loads(raw)))
            assert "Traceback" not in str(shown), context
        else:
            assert b"Traceback" not in raw, context
            assert res.mimetype == "application/json", context
            payload = json.loads(raw)
            assert payload["status"] == status, context
            assert "message" in payload, context
            assert (
                self.counts == before
            ), f"rows written by a rejected request: {context}"
        return res


@pytest.fixture(scope="module", autouse=True)
def request_count(request):
    """Print how many requests the module sent, at the end of the run."""
    started = time.monotonic()

    class Summary:
        def pytest_terminal_summary(self, terminalreporter):
            total = sum(REQUESTS.values())
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(STATUSES.items()))
            terminalreporter.write_line(
                f"test_fuzz: {total} requests (admin {REQUESTS['admin']}, "
                f"anonymous {REQUESTS['anonymous']}; {statuses}) "
                f"in {elapsed['seconds']:.1f} s"
            )

    elapsed = {"seconds": 0.0}
    yield REQUESTS
    elapsed["seconds"] = time.monotonic() - started
    if sum(REQUESTS.values()):
        request.config.pluginmanager.register(Summary(), "workflows-fuzz-summary")


@pytest.fixture()
def fuzzer(app, db, login, admin, workflows_service, search_clear):
    """A :class:`Fuzzer` with a created and a failed workflow to aim at."""
    created = workflows_service.create(system_identity, {"name": "sums"})
    failed = workflows_service.create(
        system_identity, {"name": "failing", "start": True}
    )
    other = workflows_service.create(
        system_identity, {"name": "pdf-plots", "params": {"file_id": "f"}}
    )
    tasks = {
        str(item.id): [str(t.id) for t in TaskRecord.get_workflow_tasks(item.id)]
        for item in (created, failed, other)
    }
    clients = {"admin": login(admin), "anonymous": app.test_client()}
    return Fuzzer(app, db, clients, tasks)


callers = st.sampled_from(["admin", "anonymous"])


def test_fuzz_bodies(fuzzer):
    """Bodies of every shape, sent to every route that reads one."""
    sent = sum(REQUESTS.values())

    @settings(max_examples=EXAMPLES["bodies"], **SETTINGS)
    @given(
        who=callers,
        request=fuzzer.requests(methods=("POST", "PUT", "DELETE")),
        body=bodies,
        content_type=st.sampled_from(["application/json", None]),
    )
    def run(who, request, body, content_type):
        method, url = request
        fuzzer.send(who, method, url, body=body, content_type=content_type)

    run()
    assert sum(REQUESTS.values()) - sent >= EXAMPLES["bodies"]


def test_fuzz_urls_and_query_strings(fuzzer):
    """Every route and method, with odd ids and query strings."""
    sent = sum(REQUESTS.values())

    @settings(max_examples=EXAMPLES["urls"], **SETTINGS)
    @given(
        who=callers,
        request=fuzzer.requests(),
        query=query_strings(),
    )
    def run(who, request, query):
        method, url = request
        fuzzer.send(who, method, url, query=query)

    run()
    assert sum(REQUESTS.values()) - sent >= EXAMPLES["urls"]


def test_fuzz_headers(fuzzer):
    """Content types and ``Accept`` headers, with small bodies."""
    sent = sum(REQUESTS.values())

    @settings(max_examples=EXAMPLES["headers"], **SETTINGS)
    @given(
        who=callers,
        request=fuzzer.requests(),
        body=st.one_of(st.none(), literal_bodies, shaped_bodies.map(_dump)),
        content_type=content_types,
        accept=accepts,
    )
    def run(who, request, body, content_type, accept):
        method, url = request
        fuzzer.send(
            who, method, url, body=body, content_type=content_type, accept=accept
        )

    run()
    assert sum(REQUESTS.values()) - sent >= EXAMPLES["headers"]

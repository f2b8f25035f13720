# SPDX-License-Identifier: MIT
"""The fault harness itself: each service dies for real and comes back.

Proves what the fault tests rely on: a SIGKILLed (or stopped) service
refuses connections, starts again on the same port, and keeps its data or
not as documented; the execution log tells overlapping executions apart.
"""

import pytest

from .executions import concurrent_executions, read_executions, write_line
from .services import port_accepts

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def test_redis_killed_refuses_then_restarts_empty_on_the_same_port(fault_services):
    redis = fault_services.redis
    client = redis.client()
    client.set("harness", "1")
    port, pid = redis.port, redis.process.pid
    redis.kill()
    assert not port_accepts(port)
    assert not redis.ready()
    redis.start()
    assert (redis.port, redis.ready()) == (port, True)
    assert redis.process.pid != pid
    assert redis.client().get("harness") is None  # no persistence


def test_postgres_stopped_refuses_then_starts_with_its_data(fault_services):
    import psycopg2

    pg = fault_services.postgres
    conn = psycopg2.connect(host="127.0.0.1", port=pg.port, user="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS harness (n int)")
        cursor.execute("INSERT INTO harness VALUES (7)")
    pg.stop()
    assert not pg.ready()
    with pytest.raises(psycopg2.Error):
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
    pg.start()
    conn = psycopg2.connect(host="127.0.0.1", port=pg.port, user="postgres")
    with conn.cursor() as cursor:
        cursor.execute("SELECT n FROM harness")
        assert cursor.fetchall() == [(7,)]
        cursor.execute("DROP TABLE harness")
    conn.commit()
    conn.close()


def test_search_proxy_outage_keeps_data_server_restart_loses_it(fault_services):
    search, proxy = fault_services.search, fault_services.search_proxy
    search.request("PUT", "/harness/_doc/1?refresh=true", {"n": 1})
    through_proxy = f"http://127.0.0.1:{proxy.port}/harness/_doc/1"
    import urllib.request

    def read():
        with urllib.request.urlopen(through_proxy, timeout=2) as response:
            return response.status

    assert read() == 200
    proxy.kill()
    with pytest.raises(OSError):
        read()
    proxy.start()
    assert read() == 200  # the server behind kept its data
    search.kill()
    search.start()
    assert search.request("GET", "/_cat/indices?format=json") == []
    assert proxy.ready()


def test_execution_log_tells_overlaps(tmp_path):
    log = str(tmp_path / "log")
    write_line(log, "a", "t1", 1, "start", 10.0)
    write_line(log, "a", "t1", 1, "tick", 11.0)  # killed: no end
    write_line(log, "b", "t1", 2, "start", 12.0)
    write_line(log, "b", "t1", 2, "end", 13.0)
    write_line(log, "c", "t2", 1, "start", 10.5)
    write_line(log, "c", "t2", 1, "end", 12.5)
    executions = read_executions(log)
    assert [(e.token, e.ended) for e in executions] == [
        ("a", False),
        ("c", True),
        ("b", True),
    ]
    assert concurrent_executions(executions) == []
    write_line(log, "d", "t1", 3, "start", 12.9)
    pairs = concurrent_executions(read_executions(log))
    assert [(a.token, b.token) for a, b in pairs] == [("b", "d")]

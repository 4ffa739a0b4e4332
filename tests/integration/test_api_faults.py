"""The reference API when its dependencies fail, against real servers: Redis down,
PostgreSQL down, frozen, restarted, a read-only standby promoted, a database that
is not up yet at start-up, and SIGTERM. Each test restores what it broke."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.api_servers import (
    ApiServer,
    Postgres,
    Redis,
    running,
    wait_until,
    why_no_servers,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.destructive,
    pytest.mark.skipif(why_no_servers() is not None, reason=str(why_no_servers())),
]

WRITE_ANSWER_LIMIT_S = 3.5  # the API promises an answer within ~3 s (deadline 2.5 s)


class Stack:
    def __init__(self, pg: Postgres, redis: Redis, api: ApiServer) -> None:
        self.pg, self.redis, self.api = pg, redis, api


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    pg = Postgres("127.0.5.20")
    redis = Redis("127.0.5.31")
    api = ApiServer("127.0.5.50", 8111, pg.url, [redis.url], replica="api-faults")
    with running(pg, redis, api):
        yield Stack(pg, redis, api)


def health(api: ApiServer) -> tuple[int, dict]:
    r = api.client.get("/health")
    return r.status_code, r.json()


def timed_post(client: httpx.Client, path: str, body: dict) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    r = client.post(path, json=body)
    return r, time.monotonic() - start


def test_redis_down_reports_disconnected_while_reads_use_the_database(stack: Stack) -> None:
    c = stack.api.client
    stack.redis.stop()
    try:
        wait_until(
            "health says redis disconnected",
            lambda: health(stack.api) == (503, {**health(stack.api)[1], "redis": "disconnected"}),
            10,
        )
        code, body = health(stack.api)
        assert (code, body["status"], body["database"], body["redis"]) == (
            503,
            "unhealthy",
            "connected",
            "disconnected",
        )
        for item_id in (21, 22, 21, 23):
            r = c.get(f"/items/{item_id}")
            assert r.status_code == 200
            assert r.json() == {"id": item_id, "value": f"item-{item_id}", "cache": "miss"}
        r, _ = timed_post(c, "/ledger", {"client": "run-redis-down", "seq": 1})
        assert r.status_code == 201  # writes do not need Redis
    finally:
        stack.redis.start()
    stack.api.wait_healthy(10)
    c.get("/items/24")
    assert c.get("/items/24").json()["cache"] == "hit"  # the cache is used again


def test_postgres_down_fails_writes_fast_and_recovers_without_restart(stack: Stack) -> None:
    c = stack.api.client
    pid = stack.api.proc.pid
    r, _ = timed_post(c, "/ledger", {"client": "run-pg-down", "seq": 1})
    assert r.status_code == 201
    stack.pg.stop()
    try:
        for seq in (2, 3):
            r, elapsed = timed_post(c, "/ledger", {"client": "run-pg-down", "seq": seq})
            assert r.status_code == 503, r.text
            assert r.json()["write_outcome"] == "not_applied"
            assert elapsed < WRITE_ANSWER_LIMIT_S
        r, elapsed = timed_post(c, "/items", {"value": "nope"})
        assert r.status_code == 503 and elapsed < WRITE_ANSWER_LIMIT_S
        wait_until(
            "health says database disconnected",
            lambda: health(stack.api)[1]["database"] == "disconnected",
            10,
        )
        assert health(stack.api)[0] == 503
        assert c.get("/static").status_code == 200  # the process itself is fine
    finally:
        stack.pg.start()
    stack.api.wait_healthy(15)
    r, _ = timed_post(c, "/ledger", {"client": "run-pg-down", "seq": 4})
    assert r.status_code == 201
    seqs = c.get("/ledger", params={"client": "run-pg-down"}).json()["seqs"]
    assert seqs == [1, 4]  # the acknowledged writes survived; the refused ones are absent
    assert stack.api.proc.pid == pid and stack.api.proc.alive()


def test_frozen_postgres_never_holds_a_request_past_the_deadline(stack: Stack) -> None:
    c = stack.api.client
    assert c.post("/ledger", json={"client": "run-frozen", "seq": 1}).status_code == 201
    stack.pg.proc.send_tree(signal.SIGSTOP)  # postmaster and every backend
    try:
        for seq in (2, 3):
            r, elapsed = timed_post(c, "/ledger", {"client": "run-frozen", "seq": seq})
            assert r.status_code == 503, r.text
            assert r.json()["write_outcome"] in ("not_applied", "unknown")
            assert elapsed < WRITE_ANSWER_LIMIT_S
        start = time.monotonic()
        r = c.get("/items/555")  # not cached: needs the database
        assert r.status_code == 503 and time.monotonic() - start < WRITE_ANSWER_LIMIT_S
        wait_until(
            "health says database disconnected",
            lambda: health(stack.api)[1]["database"] == "disconnected",
            10,
        )
    finally:
        stack.pg.proc.send_tree(signal.SIGCONT)
    stack.api.wait_healthy(15)
    assert c.post("/ledger", json={"client": "run-frozen", "seq": 4}).status_code == 201
    seqs = c.get("/ledger", params={"client": "run-frozen"}).json()["seqs"]
    assert seqs[0] == 1 and seqs[-1] == 4  # 2 and 3 may or may not have landed (unknown)


def test_standby_serves_reads_refuses_writes_then_writes_after_promotion(stack: Stack) -> None:
    assert stack.api.client.post("/ledger", json={"client": "run-sb", "seq": 1}).status_code == 201
    standby = Postgres("127.0.5.21", primary=stack.pg)
    api = ApiServer("127.0.5.50", 8112, standby.url, [stack.redis.url], replica="api-standby")
    try:
        standby.start()
        assert standby.psql("SELECT pg_is_in_recovery()") == "t"
        api.start()
        api.wait_healthy(15)  # a standby with our schema is a usable database
        c = api.client
        assert c.get("/items/31").json()["value"] == "item-31"
        assert c.get("/ledger", params={"client": "run-sb"}).json()["seqs"] == [1]
        r, elapsed = timed_post(c, "/ledger", {"client": "run-sb", "seq": 2})
        assert r.status_code == 503 and elapsed < WRITE_ANSWER_LIMIT_S
        assert r.json() == {"error": "database is read-only", "write_outcome": "not_applied"}
        assert c.post("/items", json={"value": "x"}).status_code == 503
        pid = api.proc.pid
        standby.psql("SELECT pg_promote()")
        wait_until("promotion", lambda: standby.psql("SELECT pg_is_in_recovery()") == "f", 20)
        wait_until(
            "write accepted after promotion",
            lambda: c.post("/ledger", json={"client": "run-sb", "seq": 3}).status_code == 201,
            10,
        )
        assert c.get("/ledger", params={"client": "run-sb"}).json()["seqs"] == [1, 3]
        assert api.proc.pid == pid and api.proc.alive()
    finally:
        api.cleanup()
        standby.cleanup()


def test_starts_listening_before_the_database_exists_then_creates_and_seeds(stack: Stack) -> None:
    late = Postgres("127.0.5.22")
    api = ApiServer("127.0.5.50", 8113, late.url, [stack.redis.url], replica="api-early")
    try:
        api.start(deadline_s=15)  # listening with no database at all
        code, body = health(api)
        assert (code, body["database"], body["redis"]) == (503, "disconnected", "connected")
        assert api.client.post("/ledger", json={"client": "e", "seq": 1}).status_code == 503
        late.start()
        api.wait_healthy(20)
        assert api.client.get("/items/1000").json()["value"] == "item-1000"
        assert late.psql("SELECT count(*) FROM items") == "1000"
        assert api.client.post("/ledger", json={"client": "e", "seq": 1}).status_code == 201
    finally:
        api.cleanup()
        late.cleanup()


def test_sigterm_stops_cleanly(stack: Stack) -> None:
    api = ApiServer("127.0.5.50", 8114, stack.pg.url, [stack.redis.url], replica="api-term")
    try:
        api.start()
        api.wait_healthy()
        assert api.proc.popen is not None
        api.proc.popen.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal after its graceful shutdown (Unix convention)
        assert api.proc.popen.wait(10) in (0, -signal.SIGTERM)
        log = api.proc.tail()
        assert "replica test/api-term stopped" in log  # the lifespan closed the clients
        assert "Application shutdown complete" in log
        with pytest.raises(httpx.ConnectError):
            api.client.get("/static")
    finally:
        api.cleanup()

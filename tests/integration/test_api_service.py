"""The reference API against a real PostgreSQL 15 and a real Redis: the contract of
docs/reference-api.md, route by route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api_servers import ApiServer, Postgres, Redis, running, why_no_servers

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(why_no_servers() is not None, reason=str(why_no_servers())),
]


class Stack:
    def __init__(self, pg: Postgres, redis: Redis, api: ApiServer) -> None:
        self.pg, self.redis, self.api = pg, redis, api


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    pg = Postgres("127.0.5.20")
    redis = Redis("127.0.5.31")
    api = ApiServer("127.0.5.50", 8101, pg.url, [redis.url], region="primary", replica="api-svc")
    with running(pg, redis, api):
        yield Stack(pg, redis, api)


def test_health_is_exactly_the_seed_contract(stack: Stack) -> None:
    r = stack.api.client.get("/health")
    assert r.status_code == 200
    assert r.json() == {
        "status": "healthy",
        "database": "connected",
        "redis": "connected",
        "region": "primary",
        "replica": "api-svc",
    }


@pytest.mark.parametrize("path", ["/health", "/static", "/items/1", "/metrics", "/nowhere"])
def test_every_response_names_region_and_replica(stack: Stack, path: str) -> None:
    r = stack.api.client.get(path)
    assert r.headers["x-region"] == "primary"
    assert r.headers["x-replica"] == "api-svc"


def test_static_is_a_constant_body(stack: Stack) -> None:
    bodies = {stack.api.client.get("/static").content for _ in range(3)}
    assert len(bodies) == 1
    assert stack.api.client.get("/static").status_code == 200


def test_seeded_item_is_read_through_the_cache(stack: Stack) -> None:
    c = stack.api.client
    stack.redis.cli("DEL", "item:17")
    first, second = c.get("/items/17"), c.get("/items/17")
    assert first.status_code == second.status_code == 200
    assert first.json() == {"id": 17, "value": "item-17", "cache": "miss"}
    assert second.json() == {"id": 17, "value": "item-17", "cache": "hit"}
    assert stack.redis.cli("GET", "item:17") == "item-17"  # the cache holds it, really


def test_written_item_lands_in_postgres_then_reads_miss_then_hit(stack: Stack) -> None:
    c = stack.api.client
    r = c.post("/items", json={"value": "written by the test"})
    assert r.status_code == 201
    item_id = r.json()["id"]
    assert item_id > 1000  # the seeded 1..1000 stay untouched
    assert stack.pg.psql(f"SELECT value FROM items WHERE id = {item_id}") == "written by the test"
    assert c.get(f"/items/{item_id}").json()["cache"] == "miss"
    hit = c.get(f"/items/{item_id}").json()
    assert hit == {"id": item_id, "value": "written by the test", "cache": "hit"}


def test_absent_items_are_404(stack: Stack) -> None:
    c = stack.api.client
    assert c.get("/items/987654321").status_code == 404
    assert c.get("/items/0").status_code == 404
    assert c.get("/items/99999999999999999999").status_code == 404  # beyond bigint
    assert c.get("/items/abc").status_code == 404


def test_ledger_is_durable_idempotent_and_read_back_in_order(stack: Stack) -> None:
    c = stack.api.client
    for seq in (5, 1, 3, 2, 3, 4, 1):  # out of order, with duplicates
        r = c.post("/ledger", json={"client": "run-svc", "seq": seq})
        assert r.status_code == 201
        assert r.json() == {"client": "run-svc", "seq": seq}
    # committed: visible to another session at once, exactly one row per (client, seq)
    assert stack.pg.psql("SELECT count(*) FROM ledger WHERE client = 'run-svc'") == "5"
    assert c.get("/ledger", params={"client": "run-svc"}).json() == {
        "client": "run-svc",
        "seqs": [1, 2, 3, 4, 5],
    }
    after = c.get("/ledger", params={"client": "run-svc", "after": 2, "limit": 2}).json()
    assert after["seqs"] == [3, 4]
    assert c.get("/ledger", params={"client": "someone-else"}).json()["seqs"] == []


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/ledger", {"content": b"not json"}),
        ("POST", "/ledger", {"json": [1, 2]}),
        ("POST", "/ledger", {"json": {"client": "x", "seq": -1}}),
        ("POST", "/ledger", {"json": {"client": "x", "seq": True}}),
        ("POST", "/ledger", {"json": {"client": "", "seq": 1}}),
        ("POST", "/ledger", {"json": {"seq": 1}}),
        ("POST", "/items", {"json": {"value": 12}}),
        ("GET", "/ledger", {"params": {"client": "x", "limit": 0}}),
        ("GET", "/ledger", {"params": {"client": "x", "after": "z"}}),
        ("GET", "/ledger", {"params": {}}),
    ],
)
def test_bad_input_is_400_with_a_reason(stack: Stack, method: str, path: str, kwargs: dict) -> None:
    r = stack.api.client.request(method, path, **kwargs)
    assert r.status_code == 400
    assert r.json()["error"]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_expose_the_families_and_counts_move(stack: Stack) -> None:
    c = stack.api.client
    before_text = c.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(before_text)}
    for name, kind in [
        ("http_requests", "counter"),
        ("http_request_duration_seconds", "histogram"),
        ("http_requests_in_flight", "gauge"),
        ("process_cpu_seconds", "counter"),
        ("process_resident_memory_bytes", "gauge"),
    ]:
        assert families[name].type == kind, name
    before = _samples(before_text)
    for _ in range(4):
        assert c.get("/static").status_code == 200
    assert c.get("/items/424242").status_code == 404
    after = _samples(c.get("/metrics").text)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("http_requests_total", route="/static", method="GET", status="200") == 4
    assert delta("http_requests_total", route="/items/{id}", method="GET", status="404") == 1
    assert delta("http_request_duration_seconds_count", route="/static", method="GET") == 4
    # buckets are fine-grained around 1-100 ms
    bounds = {
        float(dict(labels)["le"])
        for (name, labels) in after
        if name == "http_request_duration_seconds_bucket" and dict(labels)["route"] == "/static"
    }
    assert {0.001, 0.005, 0.01, 0.025, 0.05, 0.1} <= bounds
    assert sum(1 for b in bounds if 0.001 <= b <= 0.1) >= 12
    # the /metrics request being served counts itself as in flight
    assert after[("http_requests_in_flight", ())] == 1
    assert after[("process_resident_memory_bytes", ())] > 10_000_000

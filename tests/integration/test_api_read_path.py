"""The read path to the region's own PostgreSQL member (`--database-read-url`), on
real servers: a primary, its streaming replica (pg_basebackup -R), Redis, and a
repointable TCP forwarder as the leader route (`--database-url`).

What a region sees when the primary region dies: no leader for a while (the
forwarder reaches a dead primary), then the local replica promoted and the leader
route repointed to it. Reads must keep coming from the replica throughout, writes
answer 503 fast until there is a leader again, and `/health` stays healthy with
`database_writable` false meanwhile.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.api_servers import (
    ApiServer,
    Postgres,
    Redis,
    TcpForwarder,
    wait_until,
    why_no_servers,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.destructive,
    pytest.mark.skipif(why_no_servers() is not None, reason=str(why_no_servers())),
]

SEED_KEYS = {"status", "database", "redis", "region", "replica"}
DEADLINE_S = 2.5  # the API's default --request-deadline-s


@dataclass
class Servers:
    primary: Postgres
    replica: Postgres
    redis: Redis
    leader_route: TcpForwarder
    api: ApiServer


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    primary = Postgres("127.0.5.20")
    redis = Redis("127.0.5.31")
    replica: Postgres | None = None
    route: TcpForwarder | None = None
    api: ApiServer | None = None
    try:
        primary.start()
        redis.start()
        replica = Postgres("127.0.5.21", primary=primary)
        replica.start()
        route = TcpForwarder("127.0.5.10", 5001, (primary.host, primary.port))
        route.start()
        api = ApiServer(
            "127.0.5.50",
            8171,
            route.url,
            [redis.url],
            region="secondary",
            replica="api-read",
            extra=["--database-read-url", replica.url],
        )
        api.start()
        api.wait_healthy(30)  # schema created on the primary and streamed to the replica
        wait_until(
            "schema on the replica",
            lambda: replica.psql("SELECT to_regclass('public.ledger') IS NOT NULL") == "t",
            20,
        )
        yield Servers(primary, replica, redis, route, api)
    finally:
        for server in (api, route, replica, redis, primary):
            if server is not None:
                server.cleanup()


def _health(api: ApiServer) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = api.client.get("/health")
    return r.status_code, r.json()


def test_health_adds_only_database_writable(servers: Servers) -> None:
    status, body = _health(servers.api)
    assert status == 200
    assert set(body) == SEED_KEYS | {"database_writable"}
    assert (body["status"], body["database"], body["redis"]) == (
        "healthy",
        "connected",
        "connected",
    )
    assert body["database_writable"] is True


def test_reads_come_from_the_replica_and_consistent_reads_from_the_leader(
    servers: Servers,
) -> None:
    api, replica = servers.api, servers.replica
    assert api.client.post("/ledger", json={"client": "lag", "seq": 1}).status_code == 201
    wait_until(
        "seq 1 on the replica",
        lambda: replica.psql("SELECT count(*) FROM ledger WHERE client = 'lag'") == "1",
        20,
    )
    replica.psql("SELECT pg_wal_replay_pause()")  # the replica now lags on purpose
    try:
        assert api.client.post("/ledger", json={"client": "lag", "seq": 2}).status_code == 201
        # a plain read is served by the lagging replica: stale, as documented
        assert api.client.get("/ledger", params={"client": "lag"}).json()["seqs"] == [1]
        # consistent=1 reads from the leader route: every acknowledged write
        r = api.client.get("/ledger", params={"client": "lag", "consistent": "1"})
        assert r.status_code == 200 and r.json()["seqs"] == [1, 2]
        # an item written now is missing on the replica; the miss is confirmed at the leader
        item = api.client.post("/items", json={"value": "fresh"}).json()["id"]
        got = api.client.get(f"/items/{item}")
        assert got.status_code == 200 and got.json()["value"] == "fresh"
        assert api.client.get("/items/999999").status_code == 404
    finally:
        replica.psql("SELECT pg_wal_replay_resume()")
    bad = api.client.get("/ledger", params={"client": "lag", "consistent": "yes"})
    assert bad.status_code == 400 and "consistent" in bad.json()["error"]


def test_a_frozen_replica_falls_back_to_the_leader_within_the_deadline(servers: Servers) -> None:
    api, replica = servers.api, servers.replica
    replica.proc.send_tree(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        r = api.client.get("/items/201")  # not cached yet: goes to the database
        elapsed = time.monotonic() - t0
        assert r.status_code == 200 and r.json() == {
            "id": 201,
            "value": "item-201",
            "cache": "miss",
        }
        print(f"read with a frozen replica answered in {elapsed:.2f} s")
        assert elapsed < DEADLINE_S + 0.5
        ledger = api.client.get("/ledger", params={"client": "lag"})
        assert ledger.status_code == 200 and ledger.json()["seqs"] == [1, 2]
        # health: the read member is silent but the leader route works
        wait_until("health sees the frozen replica", lambda: _health(api)[0] == 200, 10)
        assert _health(api)[1]["database_writable"] is True
    finally:
        replica.proc.send_tree(signal.SIGCONT)


def test_no_leader_reads_from_the_replica_then_writes_after_promotion(servers: Servers) -> None:
    api, primary, replica, route = (
        servers.api,
        servers.primary,
        servers.replica,
        servers.leader_route,
    )
    assert api.client.post("/ledger", json={"client": "fo", "seq": 1}).status_code == 201
    wait_until(
        "seq 1 on the replica",
        lambda: replica.psql("SELECT count(*) FROM ledger WHERE client = 'fo'") == "1",
        20,
    )
    primary.proc.send_tree(signal.SIGKILL)  # the leader route now leads nowhere
    t_kill = time.monotonic()

    wait_until(
        "health reports the leader route not writable",
        lambda: _health(api)[1].get("database_writable") is False,
        10,
    )
    print(f"health saw database_writable false {time.monotonic() - t_kill:.2f} s after the kill")
    status, body = _health(api)
    assert status == 200 and body["status"] == "healthy" and body["database"] == "connected"

    # reads: served by the local replica while no leader exists
    for item_id in (301, 302, 303):
        r = api.client.get(f"/items/{item_id}")
        assert r.status_code == 200 and r.json()["value"] == f"item-{item_id}"
    r = api.client.get("/ledger", params={"client": "fo"})
    assert r.status_code == 200 and r.json()["seqs"] == [1]
    # writes, and reads that insist on the leader: 503 fast, never held to the deadline
    for method, path, kwargs in (
        ("POST", "/ledger", {"json": {"client": "fo", "seq": 2}}),
        ("POST", "/items", {"json": {"value": "x"}}),
        ("GET", "/ledger", {"params": {"client": "fo", "consistent": "1"}}),
    ):
        t0 = time.monotonic()
        r = api.client.request(method, path, **kwargs)
        assert r.status_code == 503, (method, path, r.text)
        assert r.headers["Retry-After"] == "1"
        print(f"no leader: {method} {path} -> 503 in {time.monotonic() - t0:.3f} s")
        assert time.monotonic() - t0 < DEADLINE_S + 0.5

    # promotion: the replica becomes the leader and the leader route follows it
    replica.psql("SELECT pg_promote()")
    route.point_to((replica.host, replica.port))
    wait_until(
        "a write acknowledged by the promoted replica",
        lambda: api.client.post("/ledger", json={"client": "fo", "seq": 2}).status_code == 201,
        30,
    )
    wait_until(
        "health reports writable again",
        lambda: _health(api)[1].get("database_writable") is True,
        10,
    )
    r = api.client.get("/ledger", params={"client": "fo", "consistent": "1"})
    assert r.status_code == 200 and r.json()["seqs"] == [1, 2]


def test_an_unreachable_read_member_falls_back_to_the_leader() -> None:
    primary = Postgres("127.0.5.22")
    redis = Redis("127.0.5.32")
    api: ApiServer | None = None
    try:
        primary.start()
        redis.start()
        api = ApiServer(
            "127.0.5.51",
            8172,
            primary.url,
            [redis.url],
            replica="api-noread",
            extra=["--database-read-url", "postgresql://postgres@127.0.5.29:5432/postgres"],
        )
        api.start()
        api.wait_healthy(30)  # nothing listens on the read URL: the leader route serves
        status, body = _health(api)
        assert status == 200 and body["database_writable"] is True
        r = api.client.get("/items/5")
        assert r.status_code == 200 and r.json()["value"] == "item-5"
        assert api.client.post("/ledger", json={"client": "n", "seq": 1}).status_code == 201
        r = api.client.get("/ledger", params={"client": "n"})
        assert r.status_code == 200 and r.json()["seqs"] == [1]
    finally:
        for server in (api, redis, primary):
            if server is not None:
                server.cleanup()

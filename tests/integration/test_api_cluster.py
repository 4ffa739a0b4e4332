"""The reference API with `--redis-cluster` against a real Redis Cluster of 3 masters
and 3 replicas (the primary region's layout), including a master kill."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest

from tests.support.api_servers import (
    ApiServer,
    Postgres,
    RedisClusterServers,
    running,
    wait_until,
    why_no_servers,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.destructive,
    pytest.mark.skipif(why_no_servers() is not None, reason=str(why_no_servers())),
]


class Stack:
    def __init__(self, pg: Postgres, cluster: RedisClusterServers, api: ApiServer) -> None:
        self.pg, self.cluster, self.api = pg, cluster, api


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    pg = Postgres("127.0.5.20")
    cluster = RedisClusterServers([f"127.0.5.{i}" for i in range(41, 47)], replicas_per_master=1)
    # one seed node is enough: the client learns the others from CLUSTER SLOTS
    api = ApiServer(
        "127.0.5.50", 8121, pg.url, [cluster.nodes[0].url], cluster=True, replica="api-cl"
    )
    with running(pg, cluster, api):
        yield Stack(pg, cluster, api)


def test_health_is_healthy_on_a_cluster(stack: Stack) -> None:
    r = stack.api.client.get("/health")
    assert r.status_code == 200
    assert r.json() == {
        "status": "healthy",
        "database": "connected",
        "redis": "connected",
        "region": "test",
        "replica": "api-cl",
    }


def test_cache_spreads_over_every_master(stack: Stack) -> None:
    c = stack.api.client
    for item_id in range(100, 130):
        assert c.get(f"/items/{item_id}").json()["cache"] == "miss"
        assert c.get(f"/items/{item_id}").json() == {
            "id": item_id,
            "value": f"item-{item_id}",
            "cache": "hit",
        }
    masters = stack.cluster.masters()
    assert len(masters) == 3
    sizes = [int(node.cli("DBSIZE")) for node in masters]
    assert sum(sizes) == 30 and all(size > 0 for size in sizes), sizes


def test_a_killed_master_is_reported_then_its_promoted_replica_is_used(stack: Stack) -> None:
    c = stack.api.client
    victim = next(m for m in stack.cluster.masters() if m is not stack.cluster.nodes[0])
    victim_keys = [
        k for k in (f"item:{i}" for i in range(100, 130)) if victim.cli("EXISTS", k) == "1"
    ]
    assert victim_keys, "the victim master holds none of the cached keys"
    pid = stack.api.proc.pid
    victim.proc.send_tree(signal.SIGKILL)
    t_kill = time.monotonic()
    wait_until(
        "health says redis disconnected",
        lambda: c.get("/health").json()["redis"] == "disconnected",
        10,
    )
    r = c.get("/health")
    assert r.status_code == 503 and r.json()["database"] == "connected"
    for key in victim_keys[:5]:  # reads of the dead master's slots fall back to PostgreSQL
        item_id = int(key.split(":")[1])
        r = c.get(f"/items/{item_id}")
        assert r.status_code == 200 and r.json()["value"] == f"item-{item_id}"
    # the replica takes over (cluster-node-timeout 1 s); the API finds it by itself
    stack.api.wait_healthy(20)
    print(f"redis master kill: API healthy again after {time.monotonic() - t_kill:.2f} s")
    assert len(stack.cluster.masters()) == 3
    item_id = int(victim_keys[0].split(":")[1])
    wait_until(
        "cache hit on a key of the promoted master",
        lambda: c.get(f"/items/{item_id}").json()["cache"] == "hit",
        10,
    )
    assert stack.api.proc.pid == pid and stack.api.proc.alive()

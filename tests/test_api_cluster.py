"""The reference API with `--redis-cluster` against a real 3-master Redis Cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api_servers import (
    ApiServer,
    Postgres,
    RedisClusterServers,
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
    cluster = RedisClusterServers(["127.0.5.41", "127.0.5.42", "127.0.5.43"])
    # one seed node is enough: the client learns the others from CLUSTER SLOTS
    api = ApiServer(
        "127.0.5.50", 8121, pg.url, [cluster.nodes[0].url], cluster=True, replica="api-cl"
    )
    try:
        pg.start()
        cluster.start()
        api.start()
        api.wait_healthy()
        yield Stack(pg, cluster, api)
    finally:
        api.cleanup()
        cluster.cleanup()
        pg.cleanup()


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
    sizes = [int(node.cli("DBSIZE")) for node in stack.cluster.nodes]
    assert sum(sizes) >= 30 and all(size > 0 for size in sizes), sizes


def test_a_dead_master_is_reported_and_reads_fall_back_to_the_database(stack: Stack) -> None:
    c = stack.api.client
    stack.cluster.nodes[2].stop()
    wait_until(
        "health says redis disconnected",
        lambda: c.get("/health").json()["redis"] == "disconnected",
        10,
    )
    r = c.get("/health")
    assert r.status_code == 503 and r.json()["database"] == "connected"
    for item_id in range(200, 210):  # some of these keys hash to the dead master
        r = c.get(f"/items/{item_id}")
        assert r.status_code == 200 and r.json()["value"] == f"item-{item_id}"

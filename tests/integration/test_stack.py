"""The real local HA stack: data paths, replication, and the faults it must survive."""

from __future__ import annotations

import threading
import time

import httpx
import psutil
import psycopg
import pytest

from stack.control import Stack
from stack.topology import BUNDLED_PATRONI
from stack.up import listening_ports, stray_processes

from .conftest import get, wait_until

pytestmark = pytest.mark.integration


def pg(stack: Stack, member: str) -> psycopg.Connection:
    host = stack.handles["patroni_urls"][member].split("//")[1].split(":")[0]
    return psycopg.connect(
        host=host, port=5432, user="postgres", dbname="postgres", connect_timeout=2, autocommit=True
    )


def test_every_member_runs_the_topologys_patroni(healthy_stack: Stack, topology) -> None:
    """The bundled Patroni 4 (setup.sh), not Debian's 3.0.2 that loses writes on freeze-region."""
    exe = topology.topology.postgres.patroni
    for member, url in healthy_stack.handles["patroni_urls"].items():
        version = get(f"{url}/patroni").json()["patroni"]["version"]
        if exe == BUNDLED_PATRONI:
            assert version.split(".")[0] == "4", f"{member} runs Patroni {version}"
        cmdline = psutil.Process(healthy_stack.pid(member)).cmdline()
        assert exe in cmdline, cmdline


def test_edge_routes_to_primary_region(healthy_stack: Stack) -> None:
    resp = get(f"{healthy_stack.entry_url}/health")
    assert resp.status_code == 200
    assert resp.json() == {
        **resp.json(),
        "status": "healthy",
        "database": "connected",
        "redis": "connected",
    }
    assert resp.headers["x-region"] == "primary"
    assert healthy_stack.edge_active_regions() == ["primary"]


def test_write_lands_on_leader_and_replicates(healthy_stack: Stack) -> None:
    stack = healthy_stack
    value = f"it-{time.time_ns()}"
    resp = httpx.post(f"{stack.entry_url}/items", json={"value": value}, timeout=3)
    assert resp.status_code == 201, resp.text
    item_id = resp.json()["id"]
    leader = stack.db_leader()
    assert leader is not None
    with pg(stack, leader) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        assert conn.execute("SELECT value FROM items WHERE id = %s", (item_id,)).fetchone() == (
            value,
        )
    replica = next(m for m in stack.handles["patroni_urls"] if m != leader)

    def on_replica() -> bool:
        with pg(stack, replica) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            return conn.execute("SELECT value FROM items WHERE id = %s", (item_id,)).fetchone() == (
                value,
            )

    wait_until(on_replica, 10, "write visible on the replica")
    read = get(f"{stack.entry_url}/items/{item_id}")
    assert read.status_code == 200 and read.json()["value"] == value


def test_redis_cluster_state_ok(healthy_stack: Stack) -> None:
    nodes = healthy_stack.redis_nodes("primary")
    assert len(nodes) == 6
    assert sum(n["role"] == "master" for n in nodes) == 3
    assert not any(n["failed"] for n in nodes)


def test_prometheus_scrapes_every_target(healthy_stack: Stack) -> None:
    url = f"{healthy_stack.prometheus_url}/api/v1/targets"

    def all_up() -> bool:
        targets = get(url).json()["data"]["activeTargets"]
        jobs = {t["labels"]["job"] for t in targets}
        assert {"api", "haproxy", "patroni", "etcd", "prometheus"} <= jobs
        return all(t["health"] == "up" for t in targets)

    wait_until(all_up, 30, "every Prometheus target up", interval_s=0.5)


def test_status_json_from_cli(healthy_stack: Stack, cli) -> None:
    result = cli("status", "--json", "--state-dir", str(healthy_stack.root), timeout=60)
    assert result.returncode == 0, result.stderr
    import json

    status = json.loads(result.stdout)
    assert status["entry_url"] == healthy_stack.entry_url
    assert status["prometheus_url"] == healthy_stack.prometheus_url
    assert set(status["regions"]) == {"primary", "secondary"}
    names = {p["name"] for p in status["processes"]}
    assert {"etcd-witness", "pg-primary", "pg-secondary", "haproxy-edge", "api-primary-0"} <= names


class Stream:
    """A steady stream of reads through the edge, counting every failure."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ok = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=3) as client:
            i = 0
            while not self._stop.is_set():
                i += 1
                try:
                    resp = client.get(f"{self.url}/items/{1 + i % 50}")
                    if resp.status_code == 200:
                        self.ok += 1
                    else:
                        self.failed.append(f"HTTP {resp.status_code}")
                except httpx.HTTPError as exc:
                    self.failed.append(type(exc).__name__)
                time.sleep(0.005)

    def __enter__(self) -> Stream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def test_killing_one_api_replica_costs_no_request(healthy_stack: Stack) -> None:
    stack = healthy_stack
    name = "api-primary-0"
    before = stack.pid(name)
    with Stream(stack.entry_url) as stream:
        wait_until(lambda: stream.ok > 50, 20, "stream warmed up")
        killed = stack.kill(name)
        assert before in killed
        served_at_kill = stream.ok
        wait_until(lambda: stream.ok > served_at_kill + 300, 30, "stream continued after the kill")
        wait_until(lambda: stack.pid(name) not in (0, before), 20, "replica restarted like a pod")
    assert stream.failed == []
    wait_until(
        lambda: stack.ready_replicas("primary") == stack.replicas("primary"),
        30,
        "replica ready again",
    )


def test_killing_a_redis_master_promotes_its_replica(healthy_stack: Stack) -> None:
    stack = healthy_stack
    nodes = {n["id"]: n for n in stack.redis_nodes()}
    result = stack.kill_redis_master()
    victim = next(n for n in nodes.values() if n["addr"] == result["addr"])
    replica = next(n for n in nodes.values() if n["master_id"] == victim["id"])
    wait_until(lambda: replica["addr"] in stack.redis_masters(), 20, "replica promoted to master")
    assert result["addr"] not in stack.redis_masters()
    stack.start(result["program"])
    wait_until(
        lambda: len([n for n in stack.redis_nodes() if not n["failed"]]) == 6,
        30,
        "old master rejoined the cluster",
    )


def test_killing_the_db_leader_promotes_the_replica(healthy_stack: Stack) -> None:
    stack = healthy_stack
    old = stack.db_leader()
    assert old is not None
    old_pids = set(stack.kill_db_leader()["pids"])
    assert len(old_pids) >= 2, "Patroni and its PostgreSQL must both die"

    def new_leader() -> str | None:
        leader = stack.db_leader()
        return leader if leader not in (None, old) else None

    new = wait_until(new_leader, 60, "Patroni promoted the replica (ttl 20 s)")
    assert new != old

    def write_ok() -> bool:
        resp = httpx.post(f"{stack.entry_url}/items", json={"value": "after-failover"}, timeout=3)
        return resp.status_code == 201

    wait_until(write_ok, 30, "writes succeed on the new leader")
    stack.start(str(old))
    wait_until(
        lambda: any(
            m["name"] == old
            and m["role"] in ("replica", "sync_standby")
            and m["state"] in ("running", "streaming")
            for m in stack.patroni_cluster()["members"]
        ),
        60,
        "old leader rejoined as a replica",
    )


def test_cli_up_then_down_leaves_nothing_behind(cli, tmp_path_factory) -> None:
    """A private stack on its own ranges: `gameday up`, `status`, then `down` leaves no trace."""
    import os
    import tempfile
    from pathlib import Path

    import yaml

    from stack.topology import load_topology
    from stack.up import layout_for

    from .conftest import CI_TOPOLOGY

    work = Path(tempfile.mkdtemp(prefix="gameday-down-"))
    os.chmod(work, 0o755)
    data = yaml.safe_load(CI_TOPOLOGY.read_text())
    for i, region in enumerate(["primary", "secondary", "witness"]):
        data["regions"][region]["cidr"] = f"127.0.{31 + i}.0/24"
    data["regions"]["primary"]["api_replicas"] = 1
    data["global"]["address"] = "127.0.39.1"
    data["state_dir"] = str(work / "state")
    path = work / "topo.yaml"
    path.write_text(yaml.safe_dump(data))
    t = load_topology(path).topology
    try:
        up = cli("up", "--topology", str(path), timeout=240)
        assert up.returncode == 0, up.stderr
        assert "entry point: http://127.0.39.1:8080" in up.stdout
        status = cli("status", "--state-dir", str(work / "state"), timeout=60)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "db leader     pg-primary" in status.stdout
    finally:
        down = cli("down", "--topology", str(path), timeout=240)
    assert down.returncode == 0, down.stderr
    assert listening_ports(t) == []
    assert stray_processes(t, layout_for(t, work / "state")) == []
    assert not (work / "state").exists()

"""Read-only queries on a running local stack: processes and their health, the database
leader, Redis Cluster nodes, the edge's routing, injected latency, replicas ready, the
failover controllers' status. Nothing here changes the stack.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

from bedrock.errors import ActionError
from stack import haproxy
from stack.handles import StackHandles, get_ok
from stack.probes import redis_client
from stack.supervisor import process_tree

__all__ = ["Observation", "ProcessInfo"]


@dataclass(frozen=True)
class ProcessInfo:
    name: str
    region: str
    role: str
    pid: int
    state: str
    healthy: bool | None


class Observation(StackHandles):
    """What can be seen of the stack without touching it."""

    # -- processes ----------------------------------------------------------------
    def processes(self, check_health: bool = True) -> list[ProcessInfo]:
        states = self.sup.states()
        desired = self.desired_replicas()
        out = []
        for name, meta in self.programs.items():
            st = states.get(name)
            if st is None:
                continue
            if st.state == "STOPPED" and self.unused_slot(name, desired):
                continue
            healthy = self._healthy(name, meta) if check_health and st.state == "RUNNING" else None
            out.append(ProcessInfo(name, meta["region"], meta["role"], st.pid, st.state, healthy))
        return out

    def _healthy(self, name: str, meta: dict[str, Any]) -> bool | None:
        role = meta["role"]
        try:
            if role == "api":
                return get_ok(f"{self.api_url(meta['region'], meta['index'])}/health")
            if role == "postgres":
                return get_ok(f"{self.handles['patroni_urls'][name]}/health")
            if role in ("lb", "edge"):
                url = self.entry_url if role == "edge" else self.region_url(meta["region"])
                return get_ok(f"{url}/static")
            if role == "prometheus":
                return get_ok(f"{self.prometheus_url}/-/ready")
            if role == "redis":
                host, port = self.handles["redis_cluster"][meta["region"]][meta["index"]].split(":")
                return bool(redis_client(host, int(port)).ping())
        except redis.RedisError:
            return False
        return None

    def pid(self, name: str) -> int:
        return self.sup.states()[name].pid

    def trees(self, names: list[str]) -> dict[str, list[psutil.Process]]:
        """Each running program's process tree (PostgreSQL's daemonized postmaster included)."""
        states = self.sup.states()
        trees = {n: process_tree(states[n].pid) for n in names if states[n].pid}
        for name in names:
            if self.programs[name]["role"] == "postgres":
                # Patroni daemonizes its postmaster (re-parented to PID 1): a hard
                # kill of the member must take both.
                postmaster = self.postmaster_pid(name)
                if postmaster and all(p.pid != postmaster for p in trees.get(name, [])):
                    trees.setdefault(name, []).extend(process_tree(postmaster))
        return trees

    def program_trees(self) -> dict[str, list[psutil.Process]]:
        """Every supervised program's process tree (PostgreSQL's daemonized postmaster included)."""
        states = self.sup.states()
        return self.trees([n for n in self.programs if n in states])

    def postmaster_pid(self, member: str) -> int | None:
        try:
            pid = int(
                (self.layout.pg_dir(member) / "data" / "postmaster.pid").read_text().split()[0]
            )
        except (OSError, ValueError, IndexError):
            return None
        return pid if psutil.pid_exists(pid) else None

    # -- database -----------------------------------------------------------------
    def patroni_cluster(self) -> dict[str, Any]:
        for url in self.handles["patroni_urls"].values():
            try:
                resp = httpx.get(f"{url}/cluster", timeout=0.5)
                if resp.status_code == 200:
                    return dict(resp.json())
            except httpx.HTTPError:
                continue
        raise ActionError("no Patroni member answers /cluster", retryable=True)

    def synchronous_mode(self) -> bool:
        """Patroni's dynamic configuration says synchronous_mode (False when nobody answers)."""
        for url in self.handles["patroni_urls"].values():
            try:
                resp = httpx.get(f"{url}/config", timeout=0.5)
                if resp.status_code == 200:
                    return bool(resp.json().get("synchronous_mode"))
            except httpx.HTTPError:
                continue
        return False

    def db_leader(self) -> str | None:
        for member in self.patroni_cluster().get("members", []):
            if member.get("role") == "leader" and member.get("state") == "running":
                return str(member["name"])
        return None

    # -- redis --------------------------------------------------------------------
    def redis_nodes(self, region: str | None = None) -> list[dict[str, Any]]:
        region = region or self._cluster_region()
        for addr in self.handles["redis_cluster"][region]:
            host, port = addr.split(":")
            try:
                text = redis_client(host, int(port)).execute_command("CLUSTER", "NODES")
            except redis.RedisError:
                continue
            return [_cluster_node(line) for line in str(text).strip().splitlines()]
        raise ActionError(f"no Redis node of {region} answers", retryable=True)

    def _cluster_region(self) -> str:
        for region, addrs in self.handles["redis_cluster"].items():
            if len(addrs) > 1:
                return str(region)
        raise ActionError("this stack has no Redis Cluster")

    def redis_masters(self, region: str | None = None) -> list[str]:
        return sorted(
            n["addr"] for n in self.redis_nodes(region) if n["role"] == "master" and not n["failed"]
        )

    def redis_program(self, addr: str) -> str:
        for region, addrs in self.handles["redis_cluster"].items():
            if addr in addrs:
                return f"redis-{region}-{addrs.index(addr) + 1}"
        raise ActionError(f"no Redis program serves {addr}")

    # -- load balancers -----------------------------------------------------------
    def latency_ms(self, region: str) -> int:
        """The delay injected into a region's load balancer now (0 when none)."""
        answer = haproxy.command(self.admin_socket(region), "get var proc.delay_ms")
        match = re.search(r"value=<(-?\d+)>", answer)
        if not match:
            raise ActionError(f"haproxy {region}: cannot read the latency: {answer.strip()[:120]}")
        return int(match.group(1))

    def edge_active_regions(self) -> list[str]:
        sock = Path(self.handles["edge_admin_socket"])
        return [
            s.name for s in haproxy.servers(sock, self.handles["edge_backend"]) if not s.admin_maint
        ]

    def ready_replicas(self, region: str) -> int:
        return sum(
            get_ok(f"{self.api_url(region, i)}/health") for i in range(self.replicas(region))
        )

    # -- failover controllers -------------------------------------------------------
    def controllers_alive(self) -> bool:
        return any(get_ok(f"{url}/status") for url in self.handles.get("failover_urls", []))

    def controller_status(self) -> list[dict[str, Any]]:
        """Each answering controller's /status, with its URL."""
        out = []
        for url in self.handles.get("failover_urls", []):
            try:
                resp = httpx.get(f"{url}/status", timeout=0.5)
                if resp.status_code == 200:
                    out.append({"url": url, **resp.json()})
            except httpx.HTTPError:
                continue
        return out

    def failover_leader_program(self) -> str:
        """The supervised program of the controller that says it leads (ActionError if none)."""
        leaders = [s for s in self.controller_status() if s.get("leader")]
        if not leaders:
            raise ActionError("no failover controller reports itself leader")
        return f"failover-{str(leaders[0]['identity']).rsplit('-', 1)[-1]}"

    def status(self) -> dict[str, Any]:
        procs = self.processes()
        return {
            "entry_url": self.entry_url,
            "prometheus_url": self.prometheus_url,
            "regions": {
                r: {"url": self.region_url(r), "replicas": self.replicas(r)} for r in self.regions
            },
            "edge_active": _or(self.edge_active_regions, []),
            "db_leader": _or(self.db_leader, None),
            "redis_masters": _or(self.redis_masters, []),
            "processes": [asdict(p) for p in procs],
        }


def _or(query: Any, default: Any) -> Any:
    try:
        return query()
    except ActionError:
        return default


def _cluster_node(line: str) -> dict[str, Any]:
    """One line of CLUSTER NODES."""
    parts = line.split()
    flags = parts[2].split(",")
    return {
        "id": parts[0],
        "addr": parts[1].split("@")[0],
        "role": "master" if "master" in flags else "replica",
        "failed": "fail" in flags or "fail?" in flags,
        "master_id": parts[3] if parts[3] != "-" else None,
    }

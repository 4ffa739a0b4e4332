"""The order `gameday up` starts a stack's programs in, each stage waiting for readiness.

etcd, Redis, the load balancers and Prometheus first; then the PostgreSQL
leader-to-be (and the Redis Cluster created); then the database replicas and
the API replicas; then every load balancer, the edge and Prometheus must
answer; the failover controllers and the autoscaler last. One deadline covers
all the stages; the first wait that misses it names what did not come up.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

from bedrock.errors import SetupError
from stack.layout import Program
from stack.probes import http_ok, redis_cluster_ok, redis_ping, tcp_open, wait_for
from stack.supervisor import Supervisor
from stack.topology import Topology

Progress = Callable[[str], None]


def _start(sup: Supervisor, names: list[str]) -> None:
    for name in names:
        sup.start_program(name)


def _create_redis_cluster(t: Topology, region: str) -> None:
    spec = t.redis[region]
    hosts = t.redis_hosts(region)
    port = t.ports.redis
    nodes = len(hosts)
    if redis_cluster_ok(hosts, port, nodes)() is None:
        return
    cmd = ["redis-cli", "--cluster", "create", *[f"{h}:{port}" for h in hosts]]
    cmd += ["--cluster-replicas", str(spec.replicas_per_master), "--cluster-yes"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as exc:
        raise SetupError(
            f"redis cluster create did not finish in 30 s: {exc.stdout!r:.300}"
        ) from None
    if result.returncode != 0:
        raise SetupError(
            f"redis cluster create failed: {result.stdout[-500:]} {result.stderr[-500:]}"
        )


class StartSequence:
    """The order `bring_up` starts programs in, each step waiting for readiness (one deadline)."""

    def __init__(
        self,
        t: Topology,
        sup: Supervisor,
        programs: list[Program],
        handles: dict[str, Any],
        progress: Progress,
        deadline_s: float,
    ) -> None:
        self.t, self.sup, self.handles, self.progress = t, sup, handles, progress
        self.deadline_s = deadline_s
        self.started = time.monotonic()
        self.by_role: dict[str, list[Program]] = {}
        for prog in programs:
            self.by_role.setdefault(prog.role, []).append(prog)
        self.api_names: list[str] = []

    def remaining(self) -> float:
        return max(1.0, self.deadline_s - (time.monotonic() - self.started))

    def names(self, *roles: str) -> list[str]:
        return [p.name for role in roles for p in self.by_role.get(role, [])]

    def start_base(self) -> None:
        """etcd, Redis, the load balancers and Prometheus; wait for every etcd member."""
        t = self.t
        self.progress("starting etcd, redis, load balancers, prometheus")
        _start(self.sup, self.names("etcd", "redis", "lb", "edge"))
        _start(self.sup, self.names("prometheus"))
        for region in t.regions:
            url = f"http://{t.etcd_host(region)}:{t.ports.etcd_client}/health"
            wait_for(
                f"etcd-{region}", http_ok(url, expect_json={"health": "true"}), self.remaining()
            )

    def start_database_leader_and_redis(self, already: bool) -> None:
        """The PostgreSQL leader-to-be; Redis answering (its cluster created); a primary."""
        t, handles = self.t, self.handles
        self.progress("etcd ready; starting PostgreSQL leader")
        leader = t.postgres.leader
        _start(self.sup, [leader])
        for region in t.redis:
            for host in t.redis_hosts(region):
                wait_for(f"redis {host}", redis_ping(host, t.ports.redis), self.remaining())
            if t.redis[region].mode == "cluster":
                _create_redis_cluster(t, region)
                hosts = t.redis_hosts(region)
                wait_for(
                    f"redis cluster {region}",
                    redis_cluster_ok(hosts, t.ports.redis, len(hosts)),
                    self.remaining(),
                )
        self.progress("redis ready")
        leader_url = handles["patroni_urls"][leader]
        patroni_ready = [http_ok(f"{url}/health") for url in handles["patroni_urls"].values()]

        def any_primary() -> str | None:
            for url in handles["patroni_urls"].values():
                if http_ok(f"{url}/primary")() is None:
                    return None
            return f"no PostgreSQL member is primary yet (leader-to-be {leader} at {leader_url})"

        if not already or all(c() is not None for c in patroni_ready):
            wait_for("PostgreSQL leader", any_primary, self.remaining())

    def start_replicas_and_api(self, replicas: dict[str, int]) -> None:
        """The database replicas and the desired API replicas; wait until they all serve."""
        t = self.t
        self.progress("PostgreSQL leader ready; starting replicas and API")
        _start(self.sup, [m.name for m in t.postgres.members if m.name != t.postgres.leader])
        self.api_names = [
            p.name
            for p in self.by_role["api"]
            if p.index < replicas.get(p.region, t.regions[p.region].api_replicas)
        ]
        _start(self.sup, self.api_names)
        for member in t.postgres.members:
            url = self.handles["patroni_urls"][member.name]
            wait_for(f"patroni {member.name}", http_ok(f"{url}/health"), self.remaining())
        wait_for("PostgreSQL replication", _replicas_streaming(t), self.remaining())
        for prog in self.by_role["api"]:
            if prog.name in self.api_names:
                url = f"http://{t.api_host(prog.region)}:{t.api_port(prog.index)}/health"
                wait_for(
                    prog.name, http_ok(url, expect_json={"status": "healthy"}), self.remaining()
                )

    def wait_serving(self) -> None:
        """Every regional load balancer, the edge and Prometheus answer."""
        handles = self.handles
        for region, info in handles["regions"].items():
            wait_for(f"haproxy {region}", http_ok(f"{info['url']}/health"), self.remaining())
        wait_for("edge", http_ok(f"{handles['entry_url']}/health"), self.remaining())
        wait_for("prometheus", http_ok(f"{handles['prometheus_url']}/-/ready"), self.remaining())

    def start_controllers(self) -> None:
        """The failover controllers and the autoscaler, last (they act on a serving stack)."""
        for name in self.names("failover", "autoscaler"):
            self.sup.start_program(name)
        for prog in self.by_role.get("failover", []):
            port = int(prog.environment.get("GAMEDAY_PORT", "0"))
            if port:
                wait_for(prog.name, tcp_open(self.t.global_.address, port), self.remaining())


def _replicas_streaming(t: Topology) -> Callable[[], str | None]:
    import psycopg

    def check() -> str | None:
        for member in t.postgres.members:
            host = t.pg_host(member.region)
            try:
                with psycopg.connect(
                    host=host,
                    port=t.ports.postgres,
                    user="postgres",
                    dbname="postgres",
                    connect_timeout=1,
                ) as conn:
                    in_recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                    if in_recovery and in_recovery[0]:
                        row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
                        if not row or row[0] != "streaming":
                            return f"{member.name}: wal receiver {row[0] if row else 'absent'}"
                    elif t.postgres.synchronous_mode:
                        # every acknowledged write is on a second member from the start
                        sync = conn.execute(
                            "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"
                        ).fetchone()
                        if not sync or not sync[0]:
                            return f"{member.name}: no synchronous standby yet"
            except psycopg.Error as exc:
                return f"{member.name}: {str(exc).strip()[:120]}"
        return None

    return check

"""Control primitives of the running local stack: what experiments and controllers call.

`Stack.open(state_dir)` reads the handles written by `gameday up`. Faults act on
whole process trees (Patroni and its PostgreSQL, say), so a "hard kill" leaves
no orphan behind. A region loss freezes every process of the region first (one
instant from the outside), then stops them through supervisord so nothing
restarts, then SIGKILLs them: like a power cut, and it stays dead until
`restore_region`.
"""

from __future__ import annotations

import json
import re
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

from bedrock.errors import ActionError, ConfigError, SetupError
from bedrock.loader import load_data
from stack import faults, haproxy, render
from stack.faults import DirJournal, FaultJournal
from stack.layout import Layout
from stack.probes import redis_client
from stack.state_dir import resolve_state_dir
from stack.supervisor import Supervisor, process_tree, signal_tree


@dataclass(frozen=True)
class ProcessInfo:
    name: str
    region: str
    role: str
    pid: int
    state: str
    healthy: bool | None


def open_stack(state_dir: str | Path | None = None) -> Stack:
    """Factory for controllers configured with `module:callable` (the failover scaler)."""
    return Stack.open(state_dir)


class Stack:
    def __init__(self, handles: dict[str, Any], journal: FaultJournal | None = None) -> None:
        self.handles = handles
        root = Path(handles["state_dir"])
        self.root = root
        # Every fault below is journaled before it is injected and cleared once undone.
        self.journal: FaultJournal = journal or DirJournal(root / "faults")
        self.layout = Layout(root)
        self.sup = Supervisor(
            self.layout.supervisor_conf, self.layout.supervisor_sock, self.layout.supervisor_pid
        )
        self.programs: dict[str, dict[str, Any]] = handles["programs"]

    @classmethod
    def open(cls, state_dir: Path | str | None = None) -> Stack:
        root = resolve_state_dir(state_dir)
        path = root / "stack.json"
        if not path.exists():
            raise SetupError(f"no stack at {root}: run `gameday up` first")
        handles = load_data(path)  # hardened: ConfigError (exit 2) naming the file
        shape = {"state_dir": str, "entry_url": str, "programs": dict, "regions": dict}
        if not isinstance(handles, dict) or any(
            not isinstance(handles.get(k), t) for k, t in shape.items()
        ):
            raise ConfigError(
                str(path), ["(top level): not a stack handle file; run `gameday up` again"]
            )
        return cls(handles)

    # -- handles ----------------------------------------------------------------
    @property
    def entry_url(self) -> str:
        return str(self.handles["entry_url"])

    @property
    def prometheus_url(self) -> str:
        return str(self.handles["prometheus_url"])

    @property
    def regions(self) -> list[str]:
        return list(self.handles["regions"])

    def region_url(self, region: str) -> str:
        return str(self.handles["regions"][region]["url"])

    def _programs(self, region: str | None = None, role: str | None = None) -> list[str]:
        return [
            name
            for name, meta in self.programs.items()
            if (region is None or meta["region"] == region)
            and (role is None or meta["role"] == role)
        ]

    # -- inspection ----------------------------------------------------------------
    def processes(self, check_health: bool = True) -> list[ProcessInfo]:
        states = self.sup.states()
        desired = self._desired_replicas()
        out = []
        for name, meta in self.programs.items():
            st = states.get(name)
            if st is None:
                continue
            if (
                meta["role"] == "api"
                and st.state == "STOPPED"
                and meta["index"] >= desired.get(meta["region"], 0)
            ):
                continue  # an unused replica slot
            healthy = self._healthy(name, meta) if check_health and st.state == "RUNNING" else None
            out.append(ProcessInfo(name, meta["region"], meta["role"], st.pid, st.state, healthy))
        return out

    def _healthy(self, name: str, meta: dict[str, Any]) -> bool | None:
        role = meta["role"]
        try:
            if role == "api":
                return self._get_ok(f"{self.api_url(meta['region'], meta['index'])}/health")
            if role == "postgres":
                return (
                    httpx.get(
                        f"{self.handles['patroni_urls'][name]}/health", timeout=0.5
                    ).status_code
                    == 200
                )
            if role in ("lb", "edge"):
                url = self.entry_url if role == "edge" else self.region_url(meta["region"])
                return httpx.get(f"{url}/static", timeout=0.5).status_code == 200
            if role == "prometheus":
                return httpx.get(f"{self.prometheus_url}/-/ready", timeout=0.5).status_code == 200
            if role == "redis":
                host, port = self.handles["redis_cluster"][meta["region"]][meta["index"]].split(":")
                return bool(redis_client(host, int(port)).ping())
        except (httpx.HTTPError, redis.RedisError):
            return False
        return None

    def api_url(self, region: str, index: int) -> str:
        info = self.handles["regions"][region]
        return f"http://{info['api_host']}:{int(info['api_base_port']) + index}"

    def role(self, name: str) -> str:
        return str(self.programs[name]["role"])

    def pid(self, name: str) -> int:
        return self.sup.states()[name].pid

    # -- faults ----------------------------------------------------------------------
    def _trees(self, names: list[str]) -> dict[str, list[psutil.Process]]:
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
        return self._trees([n for n in self.programs if n in states])

    def postmaster_pid(self, member: str) -> int | None:
        try:
            pid = int(
                (self.layout.pg_dir(member) / "data" / "postmaster.pid").read_text().split()[0]
            )
        except (OSError, ValueError, IndexError):
            return None
        return pid if psutil.pid_exists(pid) else None

    def kill(self, name: str) -> list[int]:
        """SIGKILL a program and all its descendants; return the pids killed."""
        trees = self._trees([name])
        if not trees:
            raise ActionError(f"{name} is not running")
        procs = trees[name]
        self.journal.record(faults.program_killed(name), pids=[p.pid for p in procs])
        signal_tree(procs, signal.SIGSTOP)
        pids = signal_tree(procs, signal.SIGKILL)
        psutil.wait_procs(procs, timeout=5)
        return pids

    def freeze(self, name: str) -> list[int]:
        trees = self._trees([name])
        if not trees:
            raise ActionError(f"{name} is not running")
        self.journal.record(faults.program_frozen(name))
        return signal_tree(trees[name], signal.SIGSTOP)

    def thaw(self, name: str) -> list[int]:
        pids = signal_tree(self._trees([name]).get(name, []), signal.SIGCONT)
        self.journal.clear(faults.program_frozen(name))
        return pids

    def start(self, name: str) -> None:
        self.sup.start_program(name)
        self.journal.clear(faults.program_killed(name))

    def kill_region(self, region: str) -> dict[str, list[int]]:
        """Power-cut a region: every process in it dies at once and stays dead."""
        names = self._programs(region=region)
        trees = self._trees(names)
        everything = [p for procs in trees.values() for p in procs]
        self.journal.record(faults.region_down(region), how="killed")
        signal_tree(everything, signal.SIGSTOP)
        for name in trees:
            self.sup.stop_program(name, wait=False)
        killed = {name: signal_tree(procs, signal.SIGKILL) for name, procs in trees.items()}
        psutil.wait_procs(everything, timeout=10)
        self._wait_states(list(trees), {"STOPPED", "EXITED", "FATAL"}, 15)
        return killed

    def freeze_region(self, region: str) -> dict[str, list[int]]:
        """A gray failure: the region's processes stop answering but keep their sockets."""
        trees = self._trees(self._programs(region=region))
        self.journal.record(faults.region_down(region), how="frozen")
        return {name: signal_tree(procs, signal.SIGSTOP) for name, procs in trees.items()}

    def restore_region(self, region: str, deadline_s: float = 60.0) -> None:
        """Thaw frozen processes and start the stopped ones; wait until the region serves."""
        names = self._programs(region=region)
        for procs in self._trees(names).values():
            signal_tree(procs, signal.SIGCONT)
        desired = self._desired_replicas()
        states = self.sup.states()
        for name in names:
            meta = self.programs[name]
            if meta["role"] == "api" and meta["index"] >= desired.get(region, 0):
                continue
            if states[name].state not in ("RUNNING", "STARTING"):
                self.sup.start_program(name)
        if region in self.handles["regions"]:
            self._apply_replica_slots(region)
            self._wait(
                f"region {region}",
                lambda: self._get_ok(f"{self.region_url(region)}/health"),
                deadline_s,
            )
        self.journal.clear(faults.region_down(region))
        for name in names:
            self.journal.clear(faults.program_killed(name))
            self.journal.clear(faults.program_frozen(name))

    def _wait_states(self, names: list[str], ok: set[str], deadline_s: float) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            states = self.sup.states()
            if all(states[n].state in ok for n in names):
                return
            time.sleep(0.05)
        raise ActionError(f"{names} did not reach {ok} within {deadline_s} s")

    @staticmethod
    def _get_ok(url: str) -> bool:
        try:
            return httpx.get(url, timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    @staticmethod
    def _wait(what: str, cond: Any, deadline_s: float) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if cond():
                return
            time.sleep(0.1)
        raise ActionError(f"{what} not ready within {deadline_s:.0f} s")

    def home_region(self) -> str:
        regions: dict[str, dict[str, Any]] = self.handles["regions"]
        return next(r for r, info in regions.items() if info["role"] == "active")

    def region_db_member(self, region: str) -> str | None:
        return next(
            (
                n
                for n, m in self.programs.items()
                if m["role"] == "postgres" and m["region"] == region
            ),
            None,
        )

    def switchover(self, candidate: str, deadline_s: float = 60.0) -> bool:
        """Planned Patroni switchover to `candidate`; False when it already leads."""
        home_member = self.region_db_member(self.home_region())
        moved = faults.db_leader_moved(self.home_region())
        leader = self.db_leader()
        if leader == candidate:
            if candidate == home_member:
                self.journal.clear(moved)
            return False
        if candidate != home_member:
            self.journal.record(moved, candidate=candidate)

        sync = self._synchronous_mode()

        def candidate_streaming() -> bool:
            for m in self.patroni_cluster().get("members", []):
                if m["name"] == candidate:
                    lag = m.get("lag") or 0  # Patroni says "unknown" while it cannot tell
                    # In synchronous mode Patroni only hands over to its sync standby.
                    return (
                        m.get("state") in ("running", "streaming")
                        and isinstance(lag, int)
                        and lag < 1024 * 1024
                        and (not sync or m.get("role") == "sync_standby")
                    )
            return False

        # A member restarted before its leader key expired resumes as leader:
        # then there is nothing to switch over.
        self._wait(
            f"{candidate} streaming or leading",
            self._quietly(lambda: self.db_leader() == candidate or candidate_streaming()),
            deadline_s,
        )
        self._wait(
            "a PostgreSQL leader", self._quietly(lambda: self.db_leader() is not None), deadline_s
        )
        leader = self.db_leader()
        if leader == candidate:
            if candidate == home_member:
                self.journal.clear(moved)
            return False
        if leader is None:
            raise ActionError("no PostgreSQL leader to switch over from")
        url = self.handles["patroni_urls"][leader]
        resp = httpx.post(
            f"{url}/switchover", json={"leader": leader, "candidate": candidate}, timeout=30
        )
        if resp.status_code != 200:
            raise ActionError(
                f"switchover {leader} -> {candidate}: HTTP {resp.status_code} {resp.text[:200]}"
            )
        self._wait(
            f"{candidate} leading", self._quietly(lambda: self.db_leader() == candidate), deadline_s
        )
        if candidate == home_member:
            self.journal.clear(moved)
        return True

    @staticmethod
    def _quietly(cond: Any) -> Any:
        def wrapped() -> bool:
            try:
                return bool(cond())
            except (ActionError, httpx.HTTPError):
                return False

        return wrapped

    def failback(self, region: str, deadline_s: float = 120.0) -> dict[str, Any]:
        """Route traffic and the database leader back to `region` (after it is restored)."""
        moved: dict[str, Any] = {}
        self._wait(
            f"region {region}",
            lambda: self._get_ok(f"{self.region_url(region)}/static"),
            deadline_s,
        )
        member = self.region_db_member(region)
        if member and self.switchover(member, deadline_s):
            moved["db_leader"] = member
        if self.edge_active_regions() != [region]:
            if self.handles.get("failover_urls") and self._controllers_alive():
                self._controller_failback(region, deadline_s)
            else:
                self.switch_edge(region)
            moved["edge"] = region
        self._wait(
            "entry point healthy", lambda: self._get_ok(f"{self.entry_url}/health"), deadline_s
        )
        return moved

    def controllers_alive(self) -> bool:
        return self._controllers_alive()

    def _controllers_alive(self) -> bool:
        return any(self._get_ok(f"{url}/status") for url in self.handles.get("failover_urls", []))

    def _controller_failback(self, region: str, deadline_s: float) -> None:
        """Ask the leading failover controller to fail back (it owns the edge)."""
        end = time.monotonic() + deadline_s
        last = ""
        while time.monotonic() < end:
            if self.edge_active_regions() == [region]:
                return
            for url in self.handles["failover_urls"]:
                try:
                    resp = httpx.post(f"{url}/failback", timeout=2)
                except httpx.HTTPError as exc:
                    last = f"{url}: {type(exc).__name__}"
                    continue
                if resp.status_code == 202:
                    self._wait(
                        f"edge back on {region}",
                        lambda: self.edge_active_regions() == [region],
                        max(1.0, end - time.monotonic()),
                    )
                    return
                last = f"{url}: HTTP {resp.status_code} {resp.text[:160]}"
            time.sleep(0.5)
        raise ActionError(f"failover controllers did not fail back to {region}: {last}")

    def partition_redis_master(
        self, addr: str | None = None, loss_pct: int = 100
    ) -> dict[str, Any]:
        """Make one Redis Cluster master unreachable (every TCP packet to its address dropped).

        Asymmetric: the master's own outgoing connections leave from 127.0.0.1 and
        still carry its gossip, so the cluster keeps it as master; clients and peers
        cannot reach it.
        """
        from stack import netfault

        masters = self.redis_masters()
        target = addr or masters[0]
        if target not in masters:
            raise ActionError(f"{target} is not a Redis master (masters: {masters})")
        host, port = target.split(":")
        self.journal.record(faults.network_rule(host), addr=target)
        rule = netfault.drop_to(host, [], loss_pct, tag=f"redis-{host}")
        return {"addr": target, "rule": rule}

    def addresses(self) -> set[str]:
        """Every loopback address this stack uses (what our nftables rules may target)."""
        return set(re.findall(r"127\.\d+\.\d+\.\d+", json.dumps(self.handles)))

    def heal_network(self) -> bool:
        """Remove our nftables rules aimed at this stack (other stacks' rules stay)."""
        from stack import netfault

        removed = netfault.heal_addresses(self.addresses())
        self.journal.clear_where(kind="nftables")
        return bool(removed)

    def restore_all(self, deadline_s: float = 120.0) -> dict[str, Any]:
        """Undo every fault: thaw, start what should run, no latency, traffic and leader home."""
        healed = self.heal_network()
        for procs in self._trees(list(self.programs)).values():
            signal_tree(procs, signal.SIGCONT)
        states = self.sup.states()
        desired = self._desired_replicas()
        started = []
        for name, meta in self.programs.items():
            if meta["role"] == "api" and meta["index"] >= desired.get(meta["region"], 0):
                continue
            if states[name].state not in ("RUNNING", "STARTING"):
                self.sup.start_program(name)
                started.append(name)
        for region in self.regions:
            self._wait(
                f"haproxy {region}",
                lambda r=region: self._get_ok(f"{self.region_url(r)}/static"),
                deadline_s,
            )
            self._apply_replica_slots(region)
            self.set_latency(region, 0)
            initial = int(
                self.handles["regions"][region].get("api_replicas", self.replicas(region))
            )
            if self.replicas(region) != initial:
                self.scale(region, initial)
        moved = self.failback(self.home_region(), deadline_s)
        cleared = [e.fault.describe() for e in self.journal.entries()]
        for entry in self.journal.entries():
            self.journal.clear(entry.fault)
        return {
            "started": started,
            "moved": moved,
            "network_healed": healed,
            "journal_cleared": cleared,
        }

    # -- database and redis ------------------------------------------------------------
    def patroni_cluster(self) -> dict[str, Any]:
        for url in self.handles["patroni_urls"].values():
            try:
                resp = httpx.get(f"{url}/cluster", timeout=0.5)
                if resp.status_code == 200:
                    return dict(resp.json())
            except httpx.HTTPError:
                continue
        raise ActionError("no Patroni member answers /cluster", retryable=True)

    def _synchronous_mode(self) -> bool:
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

    def kill_db_leader(self) -> dict[str, Any]:
        leader = self.db_leader()
        if leader is None:
            raise ActionError("there is no running PostgreSQL leader to kill")
        return {"member": leader, "pids": self.kill(leader)}

    def redis_nodes(self, region: str | None = None) -> list[dict[str, Any]]:
        region = region or self._cluster_region()
        for addr in self.handles["redis_cluster"][region]:
            host, port = addr.split(":")
            try:
                text = redis_client(host, int(port)).execute_command("CLUSTER", "NODES")
            except redis.RedisError:
                continue
            nodes = []
            for line in str(text).strip().splitlines():
                parts = line.split()
                flags = parts[2].split(",")
                nodes.append(
                    {
                        "id": parts[0],
                        "addr": parts[1].split("@")[0],
                        "role": "master" if "master" in flags else "replica",
                        "failed": "fail" in flags or "fail?" in flags,
                        "master_id": parts[3] if parts[3] != "-" else None,
                    }
                )
            return nodes
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

    def kill_redis_master(self, addr: str | None = None) -> dict[str, Any]:
        masters = self.redis_masters()
        target = addr or masters[0]
        if target not in masters:
            raise ActionError(f"{target} is not a Redis master (masters: {masters})")
        program = self.redis_program(target)
        return {"addr": target, "program": program, "pids": self.kill(program)}

    def set_latency(self, region: str, delay_ms: int) -> None:
        """Delay every request through a region's load balancer (0 removes it)."""
        if not 0 <= delay_ms <= 60_000:
            raise ActionError(f"delay {delay_ms} ms is outside 0..60000")
        sock = Path(self.handles["regions"][region]["admin_socket"])
        if delay_ms:
            self.journal.record(faults.latency_added(region), delay_ms=int(delay_ms))
        answer = haproxy.command(
            sock, f"experimental-mode on; set var proc.delay_ms int({int(delay_ms)})"
        )
        if answer.strip():
            raise ActionError(f"haproxy {region}: cannot set latency: {answer.strip()}")
        if not delay_ms:
            self.journal.clear(faults.latency_added(region))

    def latency_ms(self, region: str) -> int:
        """The delay injected into a region's load balancer now (0 when none)."""
        sock = Path(self.handles["regions"][region]["admin_socket"])
        answer = haproxy.command(sock, "get var proc.delay_ms")
        match = re.search(r"value=<(-?\d+)>", answer)
        if not match:
            raise ActionError(f"haproxy {region}: cannot read the latency: {answer.strip()[:120]}")
        return int(match.group(1))

    # -- edge ----------------------------------------------------------------------------
    def edge_active_regions(self) -> list[str]:
        sock = Path(self.handles["edge_admin_socket"])
        return [
            s.name for s in haproxy.servers(sock, self.handles["edge_backend"]) if not s.admin_maint
        ]

    def switch_edge(self, region: str) -> None:
        sock = Path(self.handles["edge_admin_socket"])
        backend = self.handles["edge_backend"]
        home = self.home_region()
        if region != home:
            self.journal.record(faults.edge_switched(home), to=region)
        haproxy.set_state(sock, backend, region, "ready")
        for other in self.regions:
            if other != region:
                haproxy.set_state(sock, backend, other, "maint")
        if region == home:
            self.journal.clear(faults.edge_switched(home))

    # -- replicas (the scaler interface of the failover controller and autoscaler) ----------
    def _desired_replicas(self) -> dict[str, int]:
        return dict(json.loads((self.root / "replicas.json").read_text()))

    def desired_replicas(self) -> dict[str, int]:
        return self._desired_replicas()

    def replicas(self, region: str) -> int:
        return self._desired_replicas()[region]

    def ready_replicas(self, region: str) -> int:
        return sum(
            self._get_ok(f"{self.api_url(region, i)}/health") for i in range(self.replicas(region))
        )

    def scale(self, region: str, replicas: int) -> None:
        info = self.handles["regions"].get(region)
        if info is None:
            raise ActionError(f"unknown API region {region!r}")
        maximum = int(info["api_max_replicas"])
        if not 0 <= replicas <= maximum:
            raise ActionError(f"{region}: {replicas} replicas is outside 0..{maximum}")
        desired = self._desired_replicas()
        current = desired[region]
        names = self._programs(region=region, role="api")
        by_index = {self.programs[n]["index"]: n for n in names}
        desired[region] = replicas
        initial = int(info.get("api_replicas", current))
        if replicas == 0 and initial > 0:
            self.journal.record(faults.region_scaled(region, initial))
        (self.root / "replicas.json").write_text(json.dumps(desired))
        sock = Path(info["admin_socket"])
        if replicas > current:
            for i in range(current, replicas):
                self.sup.start_program(by_index[i])
                haproxy.command(sock, f"enable server be_api/{by_index[i]}")
        else:
            for i in range(current - 1, replicas - 1, -1):
                haproxy.command(sock, f"disable server be_api/{by_index[i]}")
                self.sup.stop_program(by_index[i], wait=False)
        self._write_targets(desired)
        if replicas > 0:
            self.journal.clear(faults.region_scaled(region, initial))

    def _apply_replica_slots(self, region: str) -> None:
        info = self.handles["regions"][region]
        sock = Path(info["admin_socket"])
        # A restarted HAProxy leaves the old socket file until it binds the new one.
        self._wait(
            f"haproxy {region} admin socket",
            self._quietly(lambda: haproxy.command(sock, "show info")),
            15,
        )
        desired = self._desired_replicas()[region]
        for name in self._programs(region=region, role="api"):
            verb = "enable" if self.programs[name]["index"] < desired else "disable"
            haproxy.command(sock, f"{verb} server be_api/{name}")

    def _write_targets(self, desired: dict[str, int]) -> None:
        from stack.topology import load_topology

        t = load_topology(self.handles["topology"]).topology
        path = self.layout.api_targets
        tmp = path.with_suffix(".tmp")
        tmp.write_text(render.api_targets(t, {r: list(range(n)) for r, n in desired.items()}))
        tmp.replace(path)

    def status(self) -> dict[str, Any]:
        procs = self.processes()
        try:
            leader = self.db_leader()
        except ActionError:
            leader = None
        try:
            masters = self.redis_masters()
        except ActionError:
            masters = []
        try:
            active = self.edge_active_regions()
        except ActionError:
            active = []
        return {
            "entry_url": self.entry_url,
            "prometheus_url": self.prometheus_url,
            "regions": {
                r: {"url": self.region_url(r), "replicas": self.replicas(r)} for r in self.regions
            },
            "edge_active": active,
            "db_leader": leader,
            "redis_masters": masters,
            "processes": [asdict(p) for p in procs],
        }

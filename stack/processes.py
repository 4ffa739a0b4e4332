"""Supervision of a running local stack: signal, stop and start process trees, scale API
replicas, set a load balancer's delay and the edge's routing.

These are the mechanics only: nothing here writes the fault journal. Faults are
values in `stack.inject` that journal first and then call these; `stack.control.Stack`
is what `gameday stack`, the failover controllers and the autoscaler call.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import psutil

from bedrock.errors import ActionError
from stack import haproxy, render
from stack.handles import get_ok, quietly, wait_for
from stack.observe import Observation
from stack.supervisor import signal_tree


class Processes(Observation):
    """Process control of the stack (and the two HAProxy runtime settings faults use)."""

    def running_trees(self, names: list[str]) -> dict[str, list[psutil.Process]]:
        """The process trees of `names`; ActionError when none of them runs."""
        trees = self.trees(names)
        if not trees:
            raise ActionError(f"{', '.join(names)} is not running")
        return trees

    def hard_kill(self, procs: list[psutil.Process]) -> list[int]:
        """Freeze then SIGKILL every process (one instant from outside); the pids killed."""
        signal_tree(procs, signal.SIGSTOP)
        pids = signal_tree(procs, signal.SIGKILL)
        psutil.wait_procs(procs, timeout=5)
        return pids

    def power_cut(self, region: str) -> dict[str, list[int]]:
        """Every process of the region dies at once and stays dead (supervisord stops them)."""
        trees = self.trees(self.program_names(region=region))
        everything = [p for procs in trees.values() for p in procs]
        signal_tree(everything, signal.SIGSTOP)
        for name in trees:
            self.sup.stop_program(name, wait=False)
        killed = {name: signal_tree(procs, signal.SIGKILL) for name, procs in trees.items()}
        psutil.wait_procs(everything, timeout=10)
        self.wait_states(list(trees), {"STOPPED", "EXITED", "FATAL"}, 15)
        return killed

    def freeze_trees(self, names: list[str]) -> dict[str, list[int]]:
        return {n: signal_tree(procs, signal.SIGSTOP) for n, procs in self.trees(names).items()}

    def thaw_trees(self, names: list[str]) -> dict[str, list[int]]:
        return {n: signal_tree(procs, signal.SIGCONT) for n, procs in self.trees(names).items()}

    def start_stopped(self, names: list[str]) -> list[str]:
        """Start every program of `names` that should run and does not; the ones started."""
        desired = self.desired_replicas()
        states = self.sup.states()
        started = []
        for name in names:
            if self.unused_slot(name, desired):
                continue
            if states[name].state not in ("RUNNING", "STARTING"):
                self.sup.start_program(name)
                started.append(name)
        return started

    def bring_back_region(self, region: str, deadline_s: float) -> None:
        """Thaw frozen processes and start the stopped ones; wait until the region serves."""
        names = self.program_names(region=region)
        self.thaw_trees(names)
        self.start_stopped(names)
        if region in self.handles["regions"]:
            self.apply_replica_slots(region)
            wait_for(
                f"region {region}", lambda: get_ok(f"{self.region_url(region)}/health"), deadline_s
            )

    def wait_states(self, names: list[str], ok: set[str], deadline_s: float) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            states = self.sup.states()
            if all(states[n].state in ok for n in names):
                return
            time.sleep(0.05)
        raise ActionError(f"{names} did not reach {ok} within {deadline_s} s")

    # -- API replicas -----------------------------------------------------------------
    def set_replicas(self, region: str, replicas: int) -> None:
        """Start or stop API replicas (supervisord, HAProxy, Prometheus targets); no journal."""
        info = self.handles["regions"].get(region)
        if info is None:
            raise ActionError(f"unknown API region {region!r}")
        maximum = int(info["api_max_replicas"])
        if not 0 <= replicas <= maximum:
            raise ActionError(f"{region}: {replicas} replicas is outside 0..{maximum}")
        desired = self.desired_replicas()
        current = self.replicas(region)
        by_index = {self.programs[n]["index"]: n for n in self.program_names(region, "api")}
        desired[region] = replicas
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

    def apply_replica_slots(self, region: str) -> None:
        """Enable the desired replicas in the region's HAProxy, disable the rest."""
        sock = self.admin_socket(region)
        # A restarted HAProxy leaves the old socket file until it binds the new one.
        wait_for(
            f"haproxy {region} admin socket",
            quietly(lambda: haproxy.command(sock, "show info")),
            15,
        )
        desired = self.replicas(region)
        for name in self.program_names(region=region, role="api"):
            verb = "enable" if self.programs[name]["index"] < desired else "disable"
            haproxy.command(sock, f"{verb} server be_api/{name}")

    def _write_targets(self, desired: dict[str, int]) -> None:
        from stack.topology import load_topology

        t = load_topology(self.handles["topology"]).topology
        path = self.layout.api_targets
        tmp = path.with_suffix(".tmp")
        tmp.write_text(render.api_targets(t, {r: list(range(n)) for r, n in desired.items()}))
        tmp.replace(path)

    # -- HAProxy runtime settings -------------------------------------------------------
    def set_delay(self, region: str, delay_ms: int) -> None:
        """Delay every request through a region's load balancer (0 removes it); no journal."""
        if not 0 <= delay_ms <= 60_000:
            raise ActionError(f"delay {delay_ms} ms is outside 0..60000")
        answer = haproxy.command(
            self.admin_socket(region),
            f"experimental-mode on; set var proc.delay_ms int({int(delay_ms)})",
        )
        if answer.strip():
            raise ActionError(f"haproxy {region}: cannot set latency: {answer.strip()}")

    def route_edge(self, region: str) -> None:
        """The edge sends every request to `region` (the others in maintenance); no journal."""
        sock = Path(self.handles["edge_admin_socket"])
        backend = self.handles["edge_backend"]
        haproxy.set_state(sock, backend, region, "ready")
        for other in self.regions:
            if other != region:
                haproxy.set_state(sock, backend, other, "maint")

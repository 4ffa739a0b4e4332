"""The local target: the embedded HA stack on loopback, over `stack/`'s primitives.

Faults go through `stack.inject` (each journaled before it is injected, in the
stack's fault journal, so `gameday recover` can undo them after a crash);
observations through `stack.observe`; the safety net is `stack.heal.restore_all`
and region rollbacks fail back through `stack.failback`. Experiments (layer 1)
use the same primitives directly; this class is what the orchestrator uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bedrock.errors import ActionError, InputError
from gameday.targets import faults as f
from gameday.targets.base import (
    Handles,
    HandlesMixin,
    HomeCheck,
    Injected,
    Replicas,
    Say,
    Target,
    require_supported,
)
from stack import inject as ops
from stack.control import Stack

LOCAL_FAULTS: tuple[type[f.Fault], ...] = f.FAULT_TYPES  # the local stack can cause them all


class LocalTarget(HandlesMixin):
    """The running local stack of one state directory."""

    name = "local"

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    @classmethod
    def open(cls, state_dir: str | Path | None = None) -> LocalTarget:
        """The stack `gameday up` left handles for (SetupError when there is none)."""
        return cls(Stack.open(state_dir))

    # -- handles -------------------------------------------------------------
    @property
    def handles(self) -> Handles:
        s = self.stack
        return Handles(
            entry_url=s.entry_url,
            prometheus_url=s.prometheus_url,
            regions={r: s.region_url(r) for r in s.regions},
            ledger_url=s.entry_url,
            state_dir=s.root,
            events_dir=Path(s.handles.get("events_dir", s.root / "events")),
            logs_dir=s.layout.logs,
            db_api_urls=dict(s.handles.get("patroni_urls", {})),
        )

    @property
    def scales_on_load(self) -> bool:
        """An autoscaler runs (else scale time is judged by `gameday capacity`, not a run)."""
        return any(meta["role"] == "autoscaler" for meta in self.stack.programs.values())

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "state_dir": str(self.stack.root)}

    # -- faults ----------------------------------------------------------------
    def supports(self, fault: f.Fault) -> bool:
        return isinstance(fault, LOCAL_FAULTS)

    def plan(self, faults: Sequence[f.Fault]) -> list[str]:
        """The processes and rules each fault would hit now; nothing is changed."""
        lines: list[str] = []
        for fault in faults:
            require_supported(self, fault, LOCAL_FAULTS)
            try:
                planned = self._ops(fault, resolve=True)  # read-only: who leads, which master
            except ActionError:
                planned = self._ops(fault, resolve=False)
            lines.append(f"{f.describe(fault)}: {', '.join(op.describe() for op in planned)}")
        return lines

    def inject(self, fault: f.Fault) -> Injected:
        """Cause `fault` on the stack (journaled first); the evidence is in `hit` and `detail`."""
        require_supported(self, fault, LOCAL_FAULTS)
        replicas_before = None
        if isinstance(fault, f.ScaleRegion):
            replicas_before = self.stack.desired_replicas().get(fault.region)
        ops_done: list[ops.LocalFault] = []
        detail: dict[str, Any] = {}
        for op in self._ops(fault, resolve=True):
            detail[op.describe()] = ops.inject(self.stack, op)
            ops_done.append(op)
        hit = [op.describe() for op in ops_done]
        detail["ops"] = ops_done
        return Injected(fault, hit, replicas_before=replicas_before, detail=detail)

    def undo(self, injected: Injected) -> None:
        """Reverse the fault; a region fault also routes traffic and the leader back home."""
        fault = injected.fault
        for op in reversed(injected.detail.get("ops", [])):
            if isinstance(op, ops.ScaleRegion) and injected.replicas_before is not None:
                op = ops.ScaleRegion(op.region, injected.replicas_before)
                ops.inject(self.stack, op)
                continue
            ops.undo(self.stack, op)
        if isinstance(fault, f.RegionLoss | f.RegionFreeze):
            from stack.failback import failback

            failback(self.stack, fault.region)

    def restore(self, say: Say, deadline_s: float = 120.0) -> dict[str, Any]:
        """The safety net: thaw, start, no latency, replicas and traffic home, journal empty."""
        from stack.heal import restore_all

        return restore_all(self.stack, deadline_s)

    def recover(self, say: Say, deadline_s: float = 30.0) -> list[str]:
        """Undo what the fault journal holds, then whatever is still visible (stack/heal.py)."""
        from stack.heal import heal

        return heal(self.stack, say, deadline_s).problems

    def _ops(self, fault: f.Fault, resolve: bool) -> list[ops.LocalFault]:
        if isinstance(fault, f.PodKill):
            return [ops.KillProgram(f"api-{fault.region}-{i}") for i in range(max(1, fault.count))]
        return [self._op(fault, resolve)]

    def _op(self, fault: f.Fault, resolve: bool) -> ops.LocalFault:
        """The stack primitive for `fault` (`resolve`: look up the leader or master now)."""
        s = self.stack
        if isinstance(fault, f.RegionLoss):
            return ops.KillRegion(fault.region)
        if isinstance(fault, f.RegionFreeze):
            return ops.FreezeRegion(fault.region)
        if isinstance(fault, f.ControllerKill):
            return ops.KillProgram(s.failover_leader_program() if resolve else "failover-<leader>")
        if isinstance(fault, f.DbPrimaryKill):
            return ops.KillProgram((s.db_leader() if resolve else None) or "pg-<leader>")
        if isinstance(fault, f.CacheMasterKill):
            addr = fault.addr or (s.redis_masters()[0] if resolve else "<first master>")
            return ops.KillProgram(s.redis_program(addr) if resolve else f"redis {addr}")
        if isinstance(fault, f.CachePartition):
            addr = fault.addr or (s.redis_masters()[0] if resolve else "<first master>")
            return ops.PartitionAddress(addr, fault.loss_pct)
        if isinstance(fault, f.Latency):
            return ops.AddLatency(fault.region, fault.delay_ms)
        if isinstance(fault, f.ScaleRegion):
            return ops.ScaleRegion(fault.region, fault.replicas)
        raise InputError(f"the local target has no single operation for {fault.kind}")

    # -- observations ----------------------------------------------------------
    def replicas(self, region: str) -> Replicas:
        return Replicas(self.stack.replicas(region), self.stack.ready_replicas(region))

    def desired_replicas(self, region: str) -> int:
        return self.stack.replicas(region)

    def edge_regions(self) -> list[str]:
        return self.stack.edge_active_regions()

    def db_leader(self) -> str | None:
        return self.stack.db_leader()

    def at_home(self) -> HomeCheck:
        s = self.stack
        home = s.home_region()
        member = s.region_db_member(home)
        edge = s.edge_active_regions()
        leader = s.db_leader()
        healthy = s.ready_replicas(home) == s.replicas(home)
        ok = edge == [home] and leader == member and healthy
        return HomeCheck(ok, f"edge {edge}, db leader {leader}, {home} replicas ready: {healthy}")


if TYPE_CHECKING:  # mypy proves the class has every member of the Target interface

    def _is_a_target(target: LocalTarget) -> Target:
        return target

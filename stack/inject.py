"""The local stack's faults as values: each knows its journal entry, how to inject, how to undo.

`inject(stack, fault)` writes the fault to the stack's journal (stack/faults.py)
BEFORE it acts, and `undo(stack, fault)` clears the entry AFTER it has undone it,
so a runner killed at any instant leaves a journal saying what is still broken.
The mechanics are `stack.processes.Processes`'; recovery beyond a single fault
(routing the edge and the database leader home) is `stack.failback`'s.

| value | inject | undo |
|---|---|---|
| KillProgram(program) | SIGKILL the program's tree | start it |
| FreezeProgram(program) | SIGSTOP the tree | SIGCONT it |
| KillRegion(region) | power-cut every process of the region | thaw, start, wait until it serves |
| FreezeRegion(region) | SIGSTOP every process of the region | same as KillRegion |
| AddLatency(region, delay_ms) | delay the region's load balancer | delay 0 |
| PartitionAddress(addr, loss_pct) | nftables: drop TCP to the address | delete exactly those rules |
| ScaleRegion(region, replicas) | set the API replicas (journaled at 0) | the topology's count |
| SwitchEdge(region) | route the edge to the region (journaled away from home) | route it home |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bedrock.errors import ActionError
from stack import faults

if TYPE_CHECKING:
    from stack.processes import Processes


@dataclass(frozen=True)
class KillProgram:
    program: str

    def describe(self) -> str:
        return f"kill {self.program}"

    def entry(self, stack: Processes) -> faults.Fault:
        return faults.program_killed(self.program)

    def inject(self, stack: Processes) -> list[int]:
        """SIGKILL the program and all its descendants; the pids killed."""
        procs = stack.running_trees([self.program])[self.program]
        stack.journal.record(self.entry(stack), pids=[p.pid for p in procs])
        return stack.hard_kill(procs)

    def undo(self, stack: Processes) -> None:
        stack.sup.start_program(self.program)
        stack.journal.clear(self.entry(stack))


@dataclass(frozen=True)
class FreezeProgram:
    program: str

    def describe(self) -> str:
        return f"freeze {self.program}"

    def entry(self, stack: Processes) -> faults.Fault:
        return faults.program_frozen(self.program)

    def inject(self, stack: Processes) -> list[int]:
        stack.running_trees([self.program])
        stack.journal.record(self.entry(stack))
        return stack.freeze_trees([self.program]).get(self.program, [])

    def undo(self, stack: Processes) -> list[int]:
        pids = stack.thaw_trees([self.program]).get(self.program, [])
        stack.journal.clear(self.entry(stack))
        return pids


@dataclass(frozen=True)
class KillRegion:
    """A power cut: every process of the region dies at once and stays dead until undone."""

    region: str
    deadline_s: float = 60.0

    def describe(self) -> str:
        return f"power-cut region {self.region}"

    def entry(self, stack: Processes) -> faults.Fault:
        return faults.region_down(self.region)

    def inject(self, stack: Processes) -> dict[str, list[int]]:
        stack.journal.record(self.entry(stack), how="killed")
        return stack.power_cut(self.region)

    def undo(self, stack: Processes) -> None:
        """Thaw and start the region's programs; wait until it serves (no failback)."""
        stack.bring_back_region(self.region, self.deadline_s)
        stack.journal.clear(self.entry(stack))
        for name in stack.program_names(region=self.region):
            stack.journal.clear(faults.program_killed(name))
            stack.journal.clear(faults.program_frozen(name))


@dataclass(frozen=True)
class FreezeRegion(KillRegion):
    """A gray failure: the region's processes stop answering but keep their sockets."""

    def describe(self) -> str:
        return f"freeze region {self.region}"

    def inject(self, stack: Processes) -> dict[str, list[int]]:
        names = stack.program_names(region=self.region)
        stack.journal.record(self.entry(stack), how="frozen")
        return stack.freeze_trees(names)


@dataclass(frozen=True)
class AddLatency:
    region: str
    delay_ms: int

    def describe(self) -> str:
        return f"{self.delay_ms} ms latency through {self.region}'s load balancer"

    def entry(self, stack: Processes) -> faults.Fault:
        return faults.latency_added(self.region)

    def inject(self, stack: Processes) -> None:
        """Set the delay (0 removes it, as `undo` does)."""
        if not 0 <= self.delay_ms <= 60_000:
            raise ActionError(f"delay {self.delay_ms} ms is outside 0..60000")
        if self.delay_ms:
            stack.journal.record(self.entry(stack), delay_ms=int(self.delay_ms))
        stack.set_delay(self.region, self.delay_ms)
        if not self.delay_ms:
            stack.journal.clear(self.entry(stack))

    def undo(self, stack: Processes) -> None:
        stack.set_delay(self.region, 0)
        stack.journal.clear(self.entry(stack))


@dataclass(frozen=True)
class PartitionAddress:
    """Every TCP packet to `addr` (host:port or host) dropped, `loss_pct` % of them.

    Asymmetric: a server's own outgoing connections leave from 127.0.0.1, so a
    Redis master keeps its gossip; clients and peers cannot reach it.
    """

    addr: str
    loss_pct: int = 100

    @property
    def host(self) -> str:
        return self.addr.split(":")[0]

    def describe(self) -> str:
        return f"drop {self.loss_pct} % of TCP to {self.addr}"

    def entry(self, stack: Processes) -> faults.Fault:
        return faults.network_rule(self.host)

    def inject(self, stack: Processes) -> dict[str, Any]:
        from stack import netfault

        stack.journal.record(self.entry(stack), addr=self.addr)
        rule = netfault.drop_to(self.host, [], self.loss_pct, tag=f"redis-{self.host}")
        return {"addr": self.addr, "rule": rule}

    def undo(self, stack: Processes) -> list[str]:
        """Delete our rules aimed at this address only (another fault's or stack's stay)."""
        from stack import netfault

        removed = netfault.heal_addresses({self.host})
        stack.journal.clear(self.entry(stack))
        return removed


@dataclass(frozen=True)
class ScaleRegion:
    region: str
    replicas: int

    def describe(self) -> str:
        return f"scale {self.region} to {self.replicas} API replicas"

    def entry(self, stack: Processes) -> faults.Fault:
        return faults.region_scaled(self.region, stack.initial_replicas(self.region))

    def inject(self, stack: Processes) -> None:
        """Scale; a region taken to 0 is journaled (undo: back to the topology's count)."""
        info = stack.handles["regions"].get(self.region)
        if info is None:
            raise ActionError(f"unknown API region {self.region!r}")
        initial = int(info.get("api_replicas", stack.replicas(self.region)))
        entry = faults.region_scaled(self.region, initial)
        if self.replicas == 0 and initial > 0:
            stack.journal.record(entry)
        stack.set_replicas(self.region, self.replicas)
        if self.replicas > 0:
            stack.journal.clear(entry)

    def undo(self, stack: Processes) -> None:
        ScaleRegion(self.region, stack.initial_replicas(self.region)).inject(stack)


@dataclass(frozen=True)
class SwitchEdge:
    region: str

    def describe(self) -> str:
        return f"route the edge to {self.region}"

    def entry(self, stack: Processes) -> faults.Fault:
        return faults.edge_switched(stack.home_region())

    def inject(self, stack: Processes) -> None:
        home = stack.home_region()
        if self.region != home:
            stack.journal.record(self.entry(stack), to=self.region)
        stack.route_edge(self.region)
        if self.region == home:
            stack.journal.clear(self.entry(stack))

    def undo(self, stack: Processes) -> None:
        SwitchEdge(stack.home_region()).inject(stack)


LocalFault = (
    KillProgram
    | FreezeProgram
    | KillRegion
    | FreezeRegion
    | AddLatency
    | PartitionAddress
    | ScaleRegion
    | SwitchEdge
)


def inject(stack: Processes, fault: LocalFault) -> Any:
    """Journal `fault`, then cause it; what it hit (pids, rules) for the evidence."""
    return fault.inject(stack)


def undo(stack: Processes, fault: LocalFault) -> Any:
    """Undo `fault`, then clear it from the journal."""
    return fault.undo(stack)

"""Control primitives of the running local stack: what `gameday stack`, the failover
controllers, the autoscaler and the experiments call.

`Stack.open(state_dir)` reads the handles written by `gameday up`. The class is
assembled from small parts, one concept each:

- `stack.handles.StackHandles`: addresses, programs, files (nothing changes);
- `stack.observe.Observation`: read-only queries (leader, edge, replicas, health);
- `stack.processes.Processes`: supervision (signal, stop, start, scale), no journal;
- `stack.inject`: the faults as values, journaled before they act (the methods
  below are the same faults by name);
- recovery is not here: `stack.failback` (switchover, failback) and
  `stack.heal` (heal, restore_all) are the safety net's and the rollbacks'.

Faults act on whole process trees (Patroni and its PostgreSQL, say), so a "hard
kill" leaves no orphan behind. A region loss freezes every process of the region
first (one instant from the outside), then stops them through supervisord so
nothing restarts, then SIGKILLs them: like a power cut, and it stays dead until
`restore_region`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bedrock.errors import ActionError
from stack import inject as ops
from stack.observe import ProcessInfo
from stack.processes import Processes

__all__ = ["ProcessInfo", "Stack", "open_stack"]


def open_stack(state_dir: str | Path | None = None) -> Stack:
    """Factory for controllers configured with `module:callable` (the failover scaler)."""
    return Stack.open(state_dir)


class Stack(Processes):
    """The local stack: handles, observation, supervision, and its faults by name."""

    def kill(self, name: str) -> list[int]:
        """SIGKILL a program and all its descendants; return the pids killed."""
        pids: list[int] = ops.inject(self, ops.KillProgram(name))
        return pids

    def freeze(self, name: str) -> list[int]:
        pids: list[int] = ops.inject(self, ops.FreezeProgram(name))
        return pids

    def thaw(self, name: str) -> list[int]:
        pids: list[int] = ops.undo(self, ops.FreezeProgram(name))
        return pids

    def start(self, name: str) -> None:
        ops.undo(self, ops.KillProgram(name))

    def kill_region(self, region: str) -> dict[str, list[int]]:
        """Power-cut a region: every process in it dies at once and stays dead."""
        killed: dict[str, list[int]] = ops.inject(self, ops.KillRegion(region))
        return killed

    def freeze_region(self, region: str) -> dict[str, list[int]]:
        """A gray failure: the region's processes stop answering but keep their sockets."""
        frozen: dict[str, list[int]] = ops.inject(self, ops.FreezeRegion(region))
        return frozen

    def restore_region(self, region: str, deadline_s: float = 60.0) -> None:
        """Thaw frozen processes and start the stopped ones; wait until the region serves."""
        ops.undo(self, ops.KillRegion(region, deadline_s))

    def kill_db_leader(self) -> dict[str, Any]:
        leader = self.db_leader()
        if leader is None:
            raise ActionError("there is no running PostgreSQL leader to kill")
        return {"member": leader, "pids": self.kill(leader)}

    def _redis_master(self, addr: str | None) -> str:
        masters = self.redis_masters()
        target = addr or masters[0]
        if target not in masters:
            raise ActionError(f"{target} is not a Redis master (masters: {masters})")
        return target

    def kill_redis_master(self, addr: str | None = None) -> dict[str, Any]:
        target = self._redis_master(addr)
        program = self.redis_program(target)
        return {"addr": target, "program": program, "pids": self.kill(program)}

    def partition_redis_master(
        self, addr: str | None = None, loss_pct: int = 100
    ) -> dict[str, Any]:
        """Make one Redis Cluster master unreachable (every TCP packet to its address dropped)."""
        done: dict[str, Any] = ops.inject(
            self, ops.PartitionAddress(self._redis_master(addr), loss_pct)
        )
        return done

    def heal_network(self) -> bool:
        """Remove the nftables rules the journal says this stack injected, then any other rule
        of ours aimed at this stack's addresses (other stacks' rules stay)."""
        from stack import netfault

        removed: list[str] = []
        for entry in self.journal.entries():
            if entry.fault.kind == "nftables":
                addr = str(entry.detail.get("addr") or entry.fault.undo[1])
                removed += ops.undo(self, ops.PartitionAddress(addr))
        removed += netfault.heal_addresses(self.addresses())
        self.journal.clear_where(kind="nftables")
        return bool(removed)

    def set_latency(self, region: str, delay_ms: int) -> None:
        """Delay every request through a region's load balancer (0 removes it)."""
        ops.inject(self, ops.AddLatency(region, int(delay_ms)))

    def switch_edge(self, region: str) -> None:
        ops.inject(self, ops.SwitchEdge(region))

    def scale(self, region: str, replicas: int) -> None:
        ops.inject(self, ops.ScaleRegion(region, replicas))

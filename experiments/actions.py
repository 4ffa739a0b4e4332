"""Chaos Toolkit actions on the local stack. Each raises ActivityFailed when it cannot act.

Every fault is stamped `fault.injected` (and every rollback `fault.rolled_back`)
in the run folder's events.jsonl at the instant it happened, with the evidence
(pids killed, leader before) so a verdict can prove the fault really occurred.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from chaoslib.exceptions import ActivityFailed

from bedrock.errors import GamedayError
from bedrock.runfolder.events import now, record_event
from experiments.common import open_stack, run_dir
from stack import heal
from stack.failback import failback as fail_back

__all__ = [
    "kill_api_replica",
    "kill_db_leader",
    "kill_redis_master",
    "kill_region",
    "freeze_region",
    "restore_region",
    "add_latency",
    "remove_latency",
    "hold_fault",
    "start_program",
    "restore_all",
    "kill_failover_leader",
    "partition_redis_master",
    "heal_network",
    "wait_for_failover_in_progress",
]

Configuration = dict[str, Any] | None

# When this process (one Chaos Toolkit run) injected its first fault, for hold_fault's
# `at_least_s` form: the fault window counted from the fault, not from the hold.
_first_fault_mono: float | None = None


def _fault(configuration: Configuration, target: str, action: Any, **detail: Any) -> dict[str, Any]:
    global _first_fault_mono
    at = now()
    if _first_fault_mono is None:
        _first_fault_mono = time.monotonic()
    try:
        result = action()
    except GamedayError as exc:
        raise ActivityFailed(f"{target}: {exc}") from None
    record_event(
        run_dir(configuration),
        "fault.injected",
        "chaos",
        at=at,
        target=target,
        result=result,
        **detail,
    )
    return {"target": target, "t_wall": at[0], "result": result}


def kill_api_replica(
    region: str = "primary", index: int = 0, configuration: Configuration = None
) -> dict[str, Any]:
    """SIGKILL one API replica (and its children); supervisord restarts it like a pod."""
    stack = open_stack(configuration)
    name = f"api-{region}-{int(index)}"
    before = stack.pid(name)
    return _fault(
        configuration,
        f"pod:{name}",
        lambda: {"program": name, "pids": stack.kill(name)},
        pid_before=before,
    )


def kill_db_leader(configuration: Configuration = None) -> dict[str, Any]:
    """Hard-kill the Patroni leader: Patroni and its postmaster tree. Stays dead until started."""
    stack = open_stack(configuration)
    return _fault(configuration, "db-leader", stack.kill_db_leader)


def kill_redis_master(
    addr: str | None = None, configuration: Configuration = None
) -> dict[str, Any]:
    """Hard-kill one Redis Cluster master (the first by address unless `addr`)."""
    stack = open_stack(configuration)
    return _fault(configuration, "redis-master", lambda: stack.kill_redis_master(addr))


def kill_region(region: str = "primary", configuration: Configuration = None) -> dict[str, Any]:
    """Power-cut a region: API, load balancer, database member, Redis, etcd member die at once."""
    stack = open_stack(configuration)
    leader = stack.db_leader()
    return _fault(
        configuration,
        f"region:{region}",
        lambda: stack.kill_region(region),
        db_leader_before=leader,
    )


def freeze_region(region: str = "primary", configuration: Configuration = None) -> dict[str, Any]:
    """SIGSTOP every process of a region: a gray failure that answers nothing (like a partition)."""
    stack = open_stack(configuration)
    leader = stack.db_leader()
    return _fault(
        configuration,
        f"region-frozen:{region}",
        lambda: stack.freeze_region(region),
        db_leader_before=leader,
    )


def add_latency(
    region: str = "primary", delay_ms: int = 250, configuration: Configuration = None
) -> dict[str, Any]:
    """Delay every request through a region's load balancer by `delay_ms`."""
    stack = open_stack(configuration)
    return _fault(
        configuration,
        f"latency:{region}",
        lambda: stack.set_latency(region, int(delay_ms)),
        delay_ms=int(delay_ms),
    )


def hold_seconds(seconds: float, at_least_s: float | None, elapsed_s: float) -> float:
    """How long hold_fault holds: `seconds`, or with `at_least_s` the rest of a `seconds`
    window that began `elapsed_s` ago, but never less than `at_least_s`."""
    if at_least_s is None:
        return seconds
    floor = float(at_least_s)
    if not 0 <= floor <= 3600:
        raise ActivityFailed(f"hold_fault: at_least_s {floor} s is outside 0..3600")
    return max(floor, seconds - max(0.0, elapsed_s))


def hold_fault(
    seconds: float = 20.0, at_least_s: float | None = None, configuration: Configuration = None
) -> dict[str, Any]:
    """Keep the fault in place for `seconds` (the fault window the run observes).

    With `at_least_s`, `seconds` counts from the first fault this run injected (steps
    between the fault and the hold, such as waiting for an election, count towards the
    window), and the hold is never shorter than `at_least_s`.
    """
    seconds = float(seconds)
    if not 0 <= seconds <= 3600:
        raise ActivityFailed(f"hold_fault: {seconds} s is outside 0..3600")
    elapsed = 0.0 if _first_fault_mono is None else time.monotonic() - _first_fault_mono
    hold = hold_seconds(seconds, at_least_s, elapsed)
    end = time.monotonic() + hold
    while time.monotonic() < end:
        time.sleep(min(0.2, max(0.0, end - time.monotonic())))
    return {"held_s": round(hold, 3)}


def _rolled_back(configuration: Configuration, target: str, **detail: Any) -> None:
    record_event(run_dir(configuration), "fault.rolled_back", "chaos", target=target, **detail)


def remove_latency(region: str = "primary", configuration: Configuration = None) -> dict[str, Any]:
    """Rollback of add_latency."""
    stack = open_stack(configuration)
    try:
        stack.set_latency(region, 0)
    except GamedayError as exc:
        raise ActivityFailed(str(exc)) from None
    _rolled_back(configuration, f"latency:{region}")
    return {"region": region, "delay_ms": 0}


def start_program(program: str, configuration: Configuration = None) -> dict[str, Any]:
    """Start a program that a fault left stopped (a killed database member or Redis)."""
    stack = open_stack(configuration)
    try:
        stack.start(program)
    except GamedayError as exc:
        raise ActivityFailed(str(exc)) from None
    _rolled_back(configuration, f"program:{program}")
    return {"started": program}


def restore_region(
    region: str = "primary",
    failback: bool = True,
    deadline_s: float = 120.0,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Bring a killed or frozen region back; with `failback`, route the edge and the DB leader back to it."""
    stack = open_stack(configuration)
    try:
        stack.restore_region(region, deadline_s=float(deadline_s))
        moved = fail_back(stack, region, deadline_s=float(deadline_s)) if failback else {}
    except GamedayError as exc:
        raise ActivityFailed(f"restore {region}: {exc}") from None
    _rolled_back(configuration, f"region:{region}", failback=moved)
    return {"restored": region, "failback": moved}


def restore_all(configuration: Configuration = None) -> dict[str, Any]:
    """Safety net after any run: thaw and start everything, no latency, edge and leader home."""
    stack = open_stack(configuration)
    try:
        done = heal.restore_all(stack)
    except (GamedayError, httpx.HTTPError) as exc:
        raise ActivityFailed(f"restore_all: {exc}") from None
    _rolled_back(configuration, "all", **done)
    return done


def wait_for_failover_in_progress(
    deadline_s: float = 20.0, configuration: Configuration = None
) -> dict[str, Any]:
    """Block until a controller reports a failover operation in progress; return its status."""
    stack = open_stack(configuration)
    end = time.monotonic() + float(deadline_s)
    while time.monotonic() < end:
        for status in stack.controller_status():
            op = status.get("operation") or {}
            if (
                status.get("leader")
                and op.get("kind") == "failover"
                and op.get("status") == "in_progress"
            ):
                return {
                    "identity": status["identity"],
                    "operation": op.get("id"),
                    "step": status.get("current_step"),
                }
        time.sleep(0.05)
    raise ActivityFailed(f"no failover in progress after {deadline_s} s")


def kill_failover_leader(configuration: Configuration = None) -> dict[str, Any]:
    """SIGKILL the leading failover controller (the standby must take over and finish)."""
    stack = open_stack(configuration)
    leaders = [s for s in stack.controller_status() if s.get("leader")]
    if not leaders:
        raise ActivityFailed("no failover controller reports itself leader")
    identity = str(leaders[0]["identity"])
    program = f"failover-{identity.rsplit('-', 1)[-1]}"
    return _fault(
        configuration,
        f"controller:{identity}",
        lambda: {"program": program, "pids": stack.kill(program)},
    )


def partition_redis_master(
    addr: str | None = None, loss_pct: int = 100, configuration: Configuration = None
) -> dict[str, Any]:
    """Make one Redis Cluster master unreachable with nftables (every TCP packet to it dropped)."""
    stack = open_stack(configuration)
    return _fault(
        configuration,
        "redis-master-partition",
        lambda: stack.partition_redis_master(addr, int(loss_pct)),
    )


def heal_network(configuration: Configuration = None) -> dict[str, Any]:
    """Rollback of every nftables fault of ours."""
    stack = open_stack(configuration)
    try:
        healed = stack.heal_network()
    except GamedayError as exc:
        raise ActivityFailed(str(exc)) from None
    _rolled_back(configuration, "network")
    return {"healed": healed}

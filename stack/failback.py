"""Recovery of the local stack: a planned Patroni switchover, and failing the edge and the
database leader back to a region once it is restored.

Used by the experiments' rollbacks (`restore_region(failback=True)`), the runner's
safety net and `gameday recover` (stack/heal.py), and `gameday stack restore-region`.
Moving the leader or the edge away from home is journaled (`db-leader`, `edge`), and
cleared once they are back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from bedrock.errors import ActionError
from stack import faults
from stack.handles import get_ok, quietly, wait_for
from stack.inject import SwitchEdge
from stack.processes import Processes

Say = Callable[[str], None]


def _quiet(line: str) -> None:
    """The default `say`: rollbacks and the safety net wait without a word."""


def wait_saying(say: Say, what: str, cond: Callable[[], Any], deadline_s: float) -> None:
    """`wait_for`, first saying what it waits for (only when it is not so already)."""
    if cond():
        return
    say(f"waiting for {what} (up to {deadline_s:.0f} s)")
    wait_for(what, cond, deadline_s)


def _candidate_streaming(stack: Processes, candidate: str, sync: bool) -> bool:
    for m in stack.patroni_cluster().get("members", []):
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


def switchover(
    stack: Processes, candidate: str, deadline_s: float = 60.0, say: Say = _quiet
) -> bool:
    """Planned Patroni switchover to `candidate`; False when it already leads.

    A member that comes back after the other was promoted first rewinds (pg_rewind) and
    restarts, then streams, then becomes the synchronous standby: only then may it lead.
    """
    home_member = stack.region_db_member(stack.home_region())
    moved = faults.db_leader_moved(stack.home_region())

    def at_candidate(leader: str | None) -> bool:
        if leader != candidate:
            return False
        if candidate == home_member:
            stack.journal.clear(moved)
        return True

    if at_candidate(stack.db_leader()):
        return False
    if candidate != home_member:
        stack.journal.record(moved, candidate=candidate)
    sync = stack.synchronous_mode()
    # A member restarted before its leader key expired resumes as leader:
    # then there is nothing to switch over.
    wait_saying(
        say,
        f"{candidate} to stream as the {'synchronous ' if sync else ''}standby "
        "(Patroni: crash recovery, pg_rewind, restart, catch-up)",
        quietly(
            lambda: stack.db_leader() == candidate or _candidate_streaming(stack, candidate, sync)
        ),
        deadline_s,
    )
    wait_saying(
        say,
        "a PostgreSQL leader",
        quietly(lambda: stack.db_leader() is not None),
        deadline_s,
    )
    leader = stack.db_leader()
    if at_candidate(leader):
        return False
    if leader is None:
        raise ActionError("no PostgreSQL leader to switch over from")
    url = stack.handles["patroni_urls"][leader]
    say(f"switching the database leader {leader} -> {candidate} (Patroni switchover)")
    resp = httpx.post(
        f"{url}/switchover", json={"leader": leader, "candidate": candidate}, timeout=30
    )
    if resp.status_code != 200:
        raise ActionError(
            f"switchover {leader} -> {candidate}: HTTP {resp.status_code} {resp.text[:200]}"
        )
    wait_saying(
        say, f"{candidate} to lead", quietly(lambda: stack.db_leader() == candidate), deadline_s
    )
    at_candidate(candidate)
    return True


def failback(
    stack: Processes, region: str, deadline_s: float = 120.0, say: Say = _quiet
) -> dict[str, Any]:
    """Route traffic and the database leader back to `region` (after it is restored)."""
    moved: dict[str, Any] = {}
    wait_saying(
        say,
        f"region {region} to serve",
        lambda: get_ok(f"{stack.region_url(region)}/static"),
        deadline_s,
    )
    member = stack.region_db_member(region)
    if member and switchover(stack, member, deadline_s, say):
        moved["db_leader"] = member
    if stack.edge_active_regions() != [region]:
        if stack.handles.get("failover_urls") and stack.controllers_alive():
            say(f"waiting for the failover controller to route the edge to {region}")
            controller_failback(stack, region, deadline_s)
        else:
            SwitchEdge(region).inject(stack)
        moved["edge"] = region
    wait_saying(
        say,
        "the entry point to be healthy",
        lambda: get_ok(f"{stack.entry_url}/health"),
        deadline_s,
    )
    return moved


def controller_failback(stack: Processes, region: str, deadline_s: float) -> None:
    """Ask the leading failover controller to fail back (it owns the edge)."""
    end = time.monotonic() + deadline_s
    last = ""
    while time.monotonic() < end:
        if stack.edge_active_regions() == [region]:
            return
        for url in stack.handles["failover_urls"]:
            try:
                resp = httpx.post(f"{url}/failback", timeout=2)
            except httpx.HTTPError as exc:
                last = f"{url}: {type(exc).__name__}"
                continue
            if resp.status_code == 202:
                wait_for(
                    f"edge back on {region}",
                    lambda: stack.edge_active_regions() == [region],
                    max(1.0, end - time.monotonic()),
                )
                return
            last = f"{url}: HTTP {resp.status_code} {resp.text[:160]}"
        time.sleep(0.5)
    raise ActionError(f"failover controllers did not fail back to {region}: {last}")

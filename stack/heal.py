"""Put a running local stack back at home after a runner died: undo what the fault journal
holds, then whatever can still be seen, one line per thing undone, within a deadline.

What can be seen without the journal: stopped (SIGSTOP) processes, programs that
should run and do not, our nftables rules aimed at this stack, latency injected
into a region's load balancer, a region scaled to 0, the edge or the database
leader away from the home region (moved back through the failover controllers
when they run). `gameday recover` calls `heal`; `gameday up`, `run` and `nightly`
call it before they start. `restore_all` is the runner's safety net after a run
(the experiment's own rollbacks ran first).

A live runner owns the stack through `run_lock` (an flock the kernel releases when
the runner dies, by any signal), so healing never undoes the fault of a run that
is still going.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import signal
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bedrock.errors import ActionError, GamedayError, SetupError
from stack.control import Stack
from stack.failback import failback
from stack.faults import Fault
from stack.handles import get_ok, wait_for
from stack.supervisor import signal_tree

Say = Callable[[str], None]
RUN_LOCK = "run.lock"
_ERRORS = (GamedayError, httpx.HTTPError, OSError, xmlrpc.client.Error, psutil.Error, KeyError)


@dataclass
class HealReport:
    undone: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


@contextlib.contextmanager
def run_lock(root: Path) -> Iterator[None]:
    """Own the stack for a run (or a recovery); SetupError naming the holder when taken."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / RUN_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise SetupError(
            f"a gameday run (pid {holder}) is using the stack at {root}: wait for it or stop "
            "it (Ctrl-C rolls its fault back); if it is gone, run `gameday recover`"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # the kernel drops the lock with the last descriptor


def heal(stack: Stack, say: Say = print, deadline_s: float = 30.0) -> HealReport:
    """Undo every fault left on the stack; the report says what was done and what was not."""
    started = time.monotonic()
    end = started + deadline_s
    report = HealReport()

    def did(line: str) -> None:
        line = f"[{time.monotonic() - started:4.1f}s] {line}"
        report.undone.append(line)
        say(line)

    def waits(line: str) -> None:  # what it waits for: said, not counted as undone
        say(f"[{time.monotonic() - started:4.1f}s] {line}")

    if not stack.sup.running():
        _step(report, "network", lambda: _heal_network(stack, did))
        for entry in stack.journal.entries():
            stack.journal.clear(entry.fault)
            did(f"journal: dropped {entry.fault.describe()} (the stack is not running)")
        report.seconds = time.monotonic() - started
        return report
    recorded = stack.journal.entries()
    for entry in recorded:
        if entry.fault.undo[0] != "failback":
            _step(
                report,
                entry.fault.describe(),
                functools.partial(_undo, stack, entry.fault, end, did, waits),
            )
    _step(report, "thaw", lambda: _thaw_stopped(stack, did))
    _step(report, "network", lambda: _heal_network(stack, did))
    _step(report, "programs", lambda: _start_stopped(stack, did))
    _step(report, "latency", lambda: _reset_latency(stack, did))
    _step(report, "replicas", lambda: _scale_back(stack, did))
    _step(report, "failback", lambda: _fail_back(stack, end, did, waits))
    if report.ok:
        for entry in stack.journal.entries():
            stack.journal.clear(entry.fault)
            did(f"journal: cleared {entry.fault.describe()}")
    else:
        left = stack.journal.entries()
        report.problems += [f"still in the journal: {e.fault.describe()}" for e in left]
    report.seconds = time.monotonic() - started
    return report


def _step(report: HealReport, what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except _ERRORS as exc:
        report.problems.append(f"{what}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a recovery reports what failed, never a traceback
        report.problems.append(f"{what}: {type(exc).__name__}: {exc}")


def _remaining(end: float) -> float:
    return max(1.0, end - time.monotonic())


def _undo(stack: Stack, fault: Fault, end: float, did: Say, waits: Say) -> None:
    verb, *args = fault.undo
    if verb == "start":
        stack.start(args[0])
    elif verb == "thaw":
        stack.thaw(args[0])
    elif verb == "restore-region":
        waits(f"restoring region {args[0]}: thaw, start, then wait for it to serve")
        stack.restore_region(args[0], deadline_s=_remaining(end))
    elif verb == "set-latency":
        stack.set_latency(args[0], int(args[1]))
    elif verb == "heal-network":
        stack.heal_network()
    elif verb == "scale":
        stack.scale(args[0], int(args[1]))
    stack.journal.clear(fault)
    did(f"undid {fault.describe()}")


def _thaw_stopped(stack: Stack, did: Say) -> None:
    for name, procs in stack.program_trees().items():
        stopped = []
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                if proc.status() == psutil.STATUS_STOPPED:
                    stopped.append(proc)
        if stopped:
            signal_tree(stopped, signal.SIGCONT)
            did(f"thawed {name}: {len(stopped)} stopped process(es)")


def _heal_network(stack: Stack, did: Say) -> None:
    from stack import netfault

    for rule in netfault.heal_addresses(stack.addresses()):
        did(f"removed nftables rule: {rule}")
    stack.journal.clear_where(kind="nftables")


def _start_stopped(stack: Stack, did: Say) -> None:
    desired = stack.desired_replicas()
    for name, st in stack.sup.states().items():
        meta = stack.programs.get(name)
        if meta is None or st.state in ("RUNNING", "STARTING"):
            continue
        if meta["role"] == "api" and meta["index"] >= desired.get(meta["region"], 0):
            continue  # an unused replica slot
        stack.start(name)
        did(f"started {name} (was {st.state})")


def _reset_latency(stack: Stack, did: Say) -> None:
    for region in stack.regions:
        delay = stack.latency_ms(region)
        if delay:
            stack.set_latency(region, 0)
            did(f"removed {delay} ms of latency from {region}")


def _scale_back(stack: Stack, did: Say) -> None:
    for region in stack.regions:
        initial = int(stack.handles["regions"][region].get("api_replicas", 0))
        if stack.replicas(region) == 0 and initial > 0:
            stack.scale(region, initial)
            did(f"scaled {region} from 0 back to {initial} API replicas")


def _fail_back(stack: Stack, end: float, did: Say, waits: Say) -> None:
    home = stack.home_region()
    member = stack.region_db_member(home)
    edge = stack.edge_active_regions()
    leader = stack.db_leader()
    if edge == [home] and (member is None or leader == member):
        return
    waits(f"failing back to {home}: database leader {leader or 'none'}, edge {','.join(edge)}")
    while True:  # a member just thawed or restarted is no switchover candidate yet: retry
        try:
            failback(stack, home, deadline_s=_remaining(end), say=waits)
            break
        except ActionError as exc:
            if time.monotonic() + 1.0 > end:
                raise
            waits(f"failback not yet possible ({exc}); retrying")
            time.sleep(1.0)
    after = stack.db_leader()
    if leader != after:
        did(f"moved the database leader {leader or 'none'} -> {after}")
    if edge != [home]:
        how = "through the failover controller" if stack.controllers_alive() else "directly"
        did(f"routed the edge {','.join(edge) or 'nowhere'} -> {home} ({how})")


def restore_all(stack: Stack, deadline_s: float = 120.0) -> dict[str, Any]:
    """Undo every fault: thaw, start what should run, no latency, traffic and leader home."""
    healed = stack.heal_network()
    stack.thaw_trees(list(stack.programs))
    started = stack.start_stopped(list(stack.programs))
    for region in stack.regions:
        wait_for(
            f"haproxy {region}",
            lambda r=region: get_ok(f"{stack.region_url(r)}/static"),  # type: ignore[misc]
            deadline_s,
        )
        stack.apply_replica_slots(region)
        stack.set_latency(region, 0)
        initial = stack.initial_replicas(region)
        if stack.replicas(region) != initial:
            stack.scale(region, initial)
    moved = failback(stack, stack.home_region(), deadline_s)
    cleared = [e.fault.describe() for e in stack.journal.entries()]
    for entry in stack.journal.entries():
        stack.journal.clear(entry.fault)
    return {
        "started": started,
        "moved": moved,
        "network_healed": healed,
        "journal_cleared": cleared,
    }

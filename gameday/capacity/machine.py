"""How busy the machine was around a load step, and what the generator itself used.

`Snapshot.take(stack_pid)` reads the machine's CPU counters (/proc/stat through psutil), the
CPU time of the stack's process tree (the supervisor and everything under it), this process's
own CPU and that of its reaped children (the load generator, once its step has ended), and
the load average. Between two snapshots, *others* are the cores used by everything else on
the machine: the other engineers' work on a shared machine, a build, a browser.

`generator_figures(events)` reads the `load.generator` events a Locust run writes (one per
recording process: CPU seconds, wall seconds, run-queue wait seconds) and keeps the busiest
process's CPU and run-queue wait, per second of its life.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psutil


def _tree_cpu(pid: int | None) -> dict[tuple[int, float], float]:
    """CPU seconds of the process and its descendants, keyed by (pid, start time)."""
    if pid is None:
        return {}
    out: dict[tuple[int, float], float] = {}
    try:
        procs = [psutil.Process(pid)]
        procs += procs[0].children(recursive=True)
    except psutil.Error:
        return {}
    for p in procs:
        try:
            t = p.cpu_times()
            out[(p.pid, p.create_time())] = t.user + t.system
        except psutil.Error:
            continue
    return out


def _rusage_s(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


@dataclass(frozen=True)
class Snapshot:
    t_mono: float
    machine_busy_s: float  # all CPUs, not idle and not waiting for I/O
    stack: dict[tuple[int, float], float]
    self_s: float
    children_s: float
    load1: float

    @classmethod
    def take(cls, stack_pid: int | None) -> Snapshot:
        c = psutil.cpu_times()
        # guest time is already inside user/nice in /proc/stat: not counted twice
        busy = sum(
            getattr(c, k, 0.0) for k in ("user", "nice", "system", "irq", "softirq", "steal")
        )
        return cls(
            time.monotonic(),
            busy,
            _tree_cpu(stack_pid),
            _rusage_s(resource.RUSAGE_SELF),
            _rusage_s(resource.RUSAGE_CHILDREN),
            os.getloadavg()[0],
        )

    def others_cores(self, later: Snapshot) -> float | None:
        """Cores used by everything but the stack, this process and its children meanwhile."""
        span = later.t_mono - self.t_mono
        if span <= 0:
            return None
        # a stack process that ended meanwhile is left out (its CPU counts as others'), one
        # that started counts from zero: never a negative share
        stack = sum(cpu - self.stack.get(key, 0.0) for key, cpu in later.stack.items())
        ours = stack + (later.self_s - self.self_s) + (later.children_s - self.children_s)
        cores = (later.machine_busy_s - self.machine_busy_s - ours) / span
        return min(max(0.0, cores), float(psutil.cpu_count() or 1))


def generator_figures(events: Iterable[dict[str, Any]]) -> tuple[float | None, float | None]:
    """(CPU cores, run-queue wait s/s) of the busiest generator process, from its events."""
    best: tuple[float | None, float | None] = (None, None)
    for e in events:
        if e.get("kind") != "load.generator":
            continue
        d = e.get("detail") or {}
        wall = d.get("wall_s")
        if not isinstance(wall, int | float) or wall <= 0:
            continue
        cpu = d.get("cpu_s")
        runq = d.get("runqueue_wait_s")
        cores = cpu / wall if isinstance(cpu, int | float) else None
        wait = runq / wall if isinstance(runq, int | float) else None
        if best[0] is None or (cores is not None and cores > best[0]):
            best = (cores, wait)
    return best

"""The local autoscaler daemon: every period, per region, metrics in -> HPA decision -> scale.

Seams are two small interfaces the stack provides (the daemon never imports the stack):
`MetricsSource.per_replica(region)` and `Scaler` (`scale`, `replicas`, `ready_replicas`;
optionally `replica_states(region) -> {name: ready}` for exact replica names). Each cycle
returns one sentence, logged once; a cycle longer than the period is warned about. Scaling runs
aside on a worker thread: while it is in progress the region's cycle says so and decides
nothing. Between cycles the loop polls readiness every `watch_interval_s` to time-stamp
`replica.ready` precisely. The loop, signals and overrun warning are bedrock.daemon.Daemon's
(shared with the failover controller); signal handlers only call `request_stop()`.

`time_scale` compresses the HPA's clock for local runs: 0.1 makes a 60 s window last 6 s and a
15 s policy period 1.5 s (set `period_s` to match); the decisions are the same as on a cluster,
just faster. Replica names, when the scaler gives only counts, follow `replica_name` with
indexes in start order (supervisor's numbered processes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from autoscaler.algorithm import (
    LONG_AGO,
    Decision,
    HorizontalAutoscaler,
    Replica,
    Settings,
)
from autoscaler.events import EventLog
from autoscaler.spec import HpaSpec
from bedrock.daemon import Daemon

log = logging.getLogger("gameday.autoscaler")


class MetricsSource(Protocol):
    def per_replica(self, region: str) -> dict[str, dict[str, float]]:
        """{replica: {"cpu_utilization": %, "memory_utilization": %, "http_requests_per_second": x}}"""
        ...


class Scaler(Protocol):
    def scale(self, region: str, replicas: int) -> None: ...

    def replicas(self, region: str) -> int:
        """The requested (spec) replica count."""
        ...

    def ready_replicas(self, region: str) -> int: ...


@runtime_checkable
class ReplicaStates(Protocol):
    def replica_states(self, region: str) -> Mapping[str, bool]:
        """{replica name: ready} for every replica that exists (started or starting)."""
        ...


@dataclass(frozen=True)
class DaemonConfig:
    regions: tuple[str, ...]
    period_s: float = 15.0
    watch_interval_s: float = 0.5
    time_scale: float = 1.0
    replica_name: str = "api-{region}-{index}"
    settings: Settings = field(default_factory=Settings)


@dataclass
class _Region:
    hpa: HorizontalAutoscaler
    started_at: dict[str, float] = field(default_factory=dict)  # name -> mono
    ready_at: dict[str, float] = field(default_factory=dict)
    ready_names: set[str] = field(default_factory=set)
    announced: set[str] = field(default_factory=set)  # replica.ready recorded since its start
    ready_count: int | None = None
    pending: Future[None] | None = None
    pending_decision: Decision | None = None
    names_before: set[str] = field(default_factory=set)


class Autoscaler(Daemon):
    def __init__(
        self,
        spec: HpaSpec,
        scaler: Scaler,
        metrics: MetricsSource,
        config: DaemonConfig,
        events: EventLog,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        executor: Executor | None = None,
    ) -> None:
        if config.time_scale <= 0 or config.period_s <= 0:
            raise ValueError("period_s and time_scale must be positive")
        super().__init__(period_s=config.period_s, log=log, loop_clock=clock)
        self.spec = spec
        self.scaler = scaler
        self.metrics = metrics
        self.config = config
        self.events = events
        self.clock = clock
        self.sleep = sleep
        self._executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="scale")
        self.regions = {
            r: _Region(HorizontalAutoscaler(spec, config.settings)) for r in config.regions
        }

    # -- control -------------------------------------------------------------------------

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def _hpa_now(self, mono: float) -> float:
        return mono / self.config.time_scale

    def _name(self, region: str, index: int) -> str:
        return self.config.replica_name.format(region=region, index=index)

    # -- readiness watch -----------------------------------------------------------------

    def watch(self, region: str) -> None:
        """Record replica.ready for replicas that turned ready since the last look."""
        state = self.regions[region]
        now = self.clock()
        if isinstance(self.scaler, ReplicaStates):
            states = self.scaler.replica_states(region)
            ready = {n for n, ok in states.items() if ok}
            if state.ready_count is None:  # first look: what is ready is not news
                state.announced = set(ready)
            # A replica whose health check flaps under load is ready once per start.
            state.announced &= set(states)
            # replicas a scale in flight is starting are announced after their replica.started
            starting = set() if state.pending is None else set(states) - state.names_before
            new = sorted(ready - state.announced - starting, key=_natural)
            state.announced |= ready - starting
            state.ready_names = ready
            state.ready_count = len(ready)
        else:
            count = self.scaler.ready_replicas(region)
            before = state.ready_count if state.ready_count is not None else count
            state.ready_count = count
            new = [self._name(region, i) for i in range(before, count)]
            state.ready_names = {self._name(region, i) for i in range(count)}
        for name in new:
            state.ready_at[name] = now
            started = state.started_at.get(name)
            startup = None if started is None else round(now - started, 3)
            self.events.record("replica.ready", region=region, replica=name, startup_s=startup)

    # -- one cycle -----------------------------------------------------------------------

    def _replicas(self, region: str, current: int, samples: Mapping[str, object]) -> list[Replica]:
        state = self.regions[region]

        def known(name: str, ready: bool, phase: str = "running") -> Replica:
            started = state.started_at.get(name)
            became_ready = state.ready_at.get(name)
            return Replica(
                name,
                phase=phase,  # type: ignore[arg-type]
                ready=ready,
                started_at=self._hpa_now(started) if started is not None else LONG_AGO,
                ready_changed_at=(
                    self._hpa_now(became_ready) if became_ready is not None else LONG_AGO
                ),
            )

        if isinstance(self.scaler, ReplicaStates):
            out = []
            for name, ready in sorted(self.scaler.replica_states(region).items()):
                # a replica not ready and without samples is still starting: Pending
                phase = "running" if ready or name in samples else "pending"
                out.append(known(name, ready, phase))
            return out
        ready_count = min(self.scaler.ready_replicas(region), current)
        names = sorted(samples)[:current]
        out = [known(n, True) for n in names]
        running = max(ready_count, len(names))
        out += [known(f"{region}#ready-{i}", True) for i in range(running - len(names))]
        out += [known(f"{region}#pending-{i}", False, "pending") for i in range(current - running)]
        return out

    def region_cycle(self, region: str) -> str:
        """Decide for one region; returns the cycle's sentence."""
        state = self.regions[region]
        if state.pending is not None:
            if not state.pending.done():
                d = state.pending_decision
                return f"{region}: scale {d.current} -> {d.desired} in progress" if d else ""
            self._finish_scale(region)
        mono = self.clock()
        try:
            current = self.scaler.replicas(region)
            samples = self.metrics.per_replica(region)
            replicas = self._replicas(region, current, samples)
        except Exception as exc:  # a backend error: no decision this cycle, say why
            return f"{region}: no decision, {type(exc).__name__}: {exc}"
        decision = state.hpa.reconcile(
            now=self._hpa_now(mono), current_replicas=current, replicas=replicas, samples=samples
        )
        if decision.rescale:
            self.events.record(
                "scale.decision",
                region=region,
                current=decision.current,
                desired=decision.desired,
                reason=decision.reason,
                limit=decision.limit,
                metric_desired=decision.metric_desired,
            )
            state.pending_decision = decision
            if isinstance(self.scaler, ReplicaStates):
                state.names_before = set(self.scaler.replica_states(region))
            state.pending = self._executor.submit(self.scaler.scale, region, decision.desired)
        return decision.sentence(region)

    def _finish_scale(self, region: str) -> None:
        state = self.regions[region]
        future, decision = state.pending, state.pending_decision
        state.pending, state.pending_decision = None, None
        assert future is not None and decision is not None
        exc = future.exception()
        if exc is not None:
            log.warning("%s: scale to %d failed: %s", region, decision.desired, exc)
            self.events.record(
                "scale.failed", region=region, desired=decision.desired, error=str(exc)
            )
            return
        state.hpa.scaled(decision.at, decision.current, decision.desired)
        now = self.clock()
        if isinstance(self.scaler, ReplicaStates):
            names = sorted(
                set(self.scaler.replica_states(region)) - state.names_before, key=_natural
            )
        else:
            names = [self._name(region, i) for i in range(decision.current, decision.desired)]
        for name in names:
            state.started_at[name] = now
            state.ready_at.pop(name, None)
            state.announced.discard(name)
            self.events.record("replica.started", region=region, replica=name)
        for i in range(decision.desired, decision.current):
            name = self._name(region, i)
            state.started_at.pop(name, None)
            state.ready_at.pop(name, None)
            state.announced.discard(name)
            self.events.record("replica.stopped", region=region, replica=name)

    # -- the loop (bedrock.daemon.Daemon.run calls these) ------------------------------

    def run_cycle(self) -> str:
        """One cycle over every region: their sentences joined into one."""
        return "; ".join(s for s in (self.region_cycle(r) for r in self.config.regions) if s)

    def starting(self) -> None:
        for region in self.config.regions:
            self.watch(region)

    def idle_until(self, deadline: float) -> None:
        """Between cycles: poll readiness every `watch_interval_s` (time-stamps replica.ready)."""
        while not self.stopping and self.clock() < deadline:
            self.sleep(min(self.config.watch_interval_s, max(0.0, deadline - self.clock())))
            for region in self.config.regions:
                self._settle(region)
                self.watch(region)

    def stopped(self) -> None:
        for region in self.config.regions:
            state = self.regions[region]
            if state.pending is not None:
                wait([state.pending])  # let an in-flight scale finish before we go
                self._finish_scale(region)

    def _settle(self, region: str) -> None:
        state = self.regions[region]
        if state.pending is not None and state.pending.done():
            self._finish_scale(region)


def _natural(name: str) -> tuple[str, int]:
    """api-primary-10 after api-primary-9."""
    head, _, tail = name.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (name, -1)


def regions_from(names: Sequence[str]) -> tuple[str, ...]:
    if not names:
        raise ValueError("at least one region")
    return tuple(dict.fromkeys(names))

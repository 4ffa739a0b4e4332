"""The HPA algorithm run against a model of the replicas, on a virtual clock.

It answers "how long would the HPA take to absorb this load?" from measured figures: the
per-replica capacity (the knee: req/s a replica serves with p95 under target), the most a
replica serves when overloaded (what the metrics then show), and the start-up time from the
scale decision to a ready replica. The same `HorizontalAutoscaler` as the daemon decides.

Model (and its limits): load is shared evenly by ready replicas; a replica past its capacity
breaks the p95 target; metrics are the mean over the rate window of what each ready replica
served (so they lag), and a replica has samples `metrics_delay_s` after turning ready; CPU is
linear in req/s; memory is a constant. New replicas are pending (no traffic) until ready;
scale-down removes the newest replicas at once. Metrics the model cannot produce are dropped
from the spec (listed in the result) rather than reported missing, which would block scale-down.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from autoscaler.algorithm import HorizontalAutoscaler, Replica, Settings, metric_key
from autoscaler.spec import HpaSpec

RPS_KEY = "http_requests_per_second"


@dataclass(frozen=True)
class LoadPhase:
    """From `start_s` on, the offered load is `rps` (until the next phase)."""

    start_s: float
    rps: float


@dataclass(frozen=True)
class ReplicaModel:
    capacity_rps: float  # per replica, p95 under target up to here (the knee)
    startup_s: float  # scale decision -> replica ready
    saturation_rps: float | None = None  # most a replica serves; default: capacity_rps
    cpu_seconds_per_request: float | None = None
    cpu_request_millicores: float = 1000.0
    memory_utilization: float | None = None  # percent of request, constant
    metrics_delay_s: float = 1.0  # a ready replica has samples after this long

    @property
    def saturation(self) -> float:
        return self.saturation_rps if self.saturation_rps is not None else self.capacity_rps


@dataclass(frozen=True)
class SimConfig:
    duration_s: float
    sync_period_s: float = 15.0
    metric_window_s: float = 30.0
    dt_s: float = 1.0
    initial_replicas: int | None = None  # default: minReplicas
    rps_metric: str = RPS_KEY


@dataclass(frozen=True)
class SimPoint:
    t: float
    offered_rps: float
    served_rps: float
    replicas: int  # requested (spec)
    ready: int
    p95_ok: bool


@dataclass(frozen=True)
class SimDecision:
    t: float
    current: int
    desired: int
    reason: str
    limit: str


@dataclass(frozen=True)
class SimResult:
    points: tuple[SimPoint, ...]
    decisions: tuple[SimDecision, ...]
    dropped_metrics: tuple[str, ...]

    def scale_time_s(self, step_at_s: float) -> float | None:
        """From the load step to the first moment, after a scale-up, when all the replicas
        requested at that moment are ready and p95 holds at that moment.

        Only while the load is at least the step's: p95 back because the load went away is not
        a scale. None when it never happens (inconclusive, not a pass).

        Not the count of the measured scale time (slo.measure_scale.scale_for_step: the highest
        desired count of the whole step ready, and p95 under target for a sustained window
        from then): a prediction can be shorter than what a run of the same spike measures.
        """
        at_step = next((p for p in self.points if p.t >= step_at_s), None)
        if at_step is None:
            return None
        for p in self.points:
            if p.t < step_at_s:
                continue
            if p.offered_rps < at_step.offered_rps:
                return None
            if p.replicas > at_step.replicas and p.p95_ok and p.ready == p.replicas:
                return p.t - step_at_s
        return None

    def first_scale_s(self, step_at_s: float) -> float | None:
        """From the step to the first scale-up decision."""
        for d in self.decisions:
            if d.t >= step_at_s and d.desired > d.current:
                return d.t - step_at_s
        return None

    def max_replicas(self) -> int:
        return max(p.replicas for p in self.points)


@dataclass
class _SimReplica:
    name: str
    ready_at: float


def _offered(load: Sequence[LoadPhase], t: float) -> float:
    rps = 0.0
    for phase in load:
        if phase.start_s <= t:
            rps = phase.rps
    return rps


def _sim_spec(
    spec: HpaSpec, model: ReplicaModel, config: SimConfig
) -> tuple[HpaSpec, tuple[str, ...]]:
    """The spec with only the metrics the model can produce, and the names of the others."""
    keys = {config.rps_metric}
    if model.cpu_seconds_per_request is not None:
        keys.add("cpu_utilization")
    if model.memory_utilization is not None:
        keys.add("memory_utilization")
    kept = tuple(m for m in spec.metrics if metric_key(m) in keys)
    dropped = tuple(metric_key(m) for m in spec.metrics if metric_key(m) not in keys)
    if not kept:
        raise ValueError(f"the model produces none of the spec's metrics ({', '.join(dropped)})")
    return dataclasses.replace(spec, metrics=kept), dropped


def _observe(
    replicas: Sequence[_SimReplica],
    t: float,
    history: Sequence[tuple[float, float]],
    model: ReplicaModel,
    config: SimConfig,
) -> tuple[list[Replica], dict[str, dict[str, float]]]:
    """What the HPA sees at `t`: replica states, and per ready replica the rate-window mean of
    what it served (after the metrics delay)."""
    samples: dict[str, dict[str, float]] = {}
    states: list[Replica] = []
    for r in replicas:
        if r.ready_at > t:
            states.append(Replica(r.name, phase="pending", ready=False, started_at=t))
            continue
        states.append(Replica(r.name, started_at=r.ready_at, ready_changed_at=r.ready_at))
        if t - r.ready_at < model.metrics_delay_s:
            continue
        seen = [v for (ht, v) in history if ht > r.ready_at]
        if not seen:
            continue
        served = sum(seen) / len(seen)
        values = {config.rps_metric: served}
        if model.cpu_seconds_per_request is not None:
            cores = served * model.cpu_seconds_per_request
            values["cpu_utilization"] = cores * 1000.0 / model.cpu_request_millicores * 100.0
        if model.memory_utilization is not None:
            values["memory_utilization"] = model.memory_utilization
        samples[r.name] = values
    return states, samples


def _point(
    load: Sequence[LoadPhase], replicas: Sequence[_SimReplica], t: float, model: ReplicaModel
) -> tuple[float, SimPoint]:
    """(rps per ready replica, the point) at `t`: the load shared by the ready replicas, each
    saturating at `model.saturation`."""
    offered = _offered(load, t)
    ready = sum(1 for r in replicas if r.ready_at <= t)
    per_ready = min(offered / ready, model.saturation) if ready else 0.0
    return per_ready, SimPoint(
        t=t,
        offered_rps=offered,
        served_rps=per_ready * ready,
        replicas=len(replicas),
        ready=ready,
        p95_ok=ready > 0 and offered / ready <= model.capacity_rps,
    )


def simulate(
    spec: HpaSpec,
    load: Sequence[LoadPhase],
    model: ReplicaModel,
    config: SimConfig,
    settings: Settings | None = None,
) -> SimResult:
    """Run the HPA over the load on a virtual clock; deterministic."""
    if model.capacity_rps <= 0 or model.startup_s < 0:
        raise ValueError("capacity_rps must be > 0 and startup_s >= 0")
    sim_spec, dropped = _sim_spec(spec, model, config)
    hpa = HorizontalAutoscaler(
        sim_spec, settings or Settings(metric_window_s=config.metric_window_s)
    )
    ticks = int(round(config.duration_s / config.dt_s))
    sync_every = max(1, int(round(config.sync_period_s / config.dt_s)))
    window_ticks = max(1, int(round(config.metric_window_s / config.dt_s)))
    start = config.initial_replicas or spec.min_replicas
    replicas = [_SimReplica(f"r{i}", -math.inf) for i in range(start)]
    counter = start
    history: deque[tuple[float, float]] = deque(maxlen=window_ticks)  # (t, per-ready rps)
    points: list[SimPoint] = []
    decisions: list[SimDecision] = []
    for k in range(ticks + 1):
        t = k * config.dt_s
        if k % sync_every == 0:
            states, samples = _observe(replicas, t, history, model, config)
            d = hpa.reconcile(
                now=t, current_replicas=len(replicas), replicas=states, samples=samples
            )
            decisions.append(SimDecision(t, d.current, d.desired, d.reason, d.limit))
            if d.rescale:
                for _ in range(d.desired - len(replicas)):
                    replicas.append(_SimReplica(f"r{counter}", t + model.startup_s))
                    counter += 1
                del replicas[d.desired :]
                hpa.scaled(t, d.current, d.desired)
        per_ready, point = _point(load, replicas, t, model)
        history.append((t, per_ready))
        points.append(point)
    return SimResult(tuple(points), tuple(decisions), dropped)

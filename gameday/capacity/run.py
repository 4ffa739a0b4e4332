"""`gameday capacity` orchestration against a small target interface (the stack wires it).

A `CapacityTarget` fixes the replica count, runs one load step and returns its measured figures,
times replica start-ups, and (optionally) runs a spike with the autoscaler on. This module only
sequences those calls, stops each replica count's ladder at its first failing step, and hands
the figures to the pure analysis (capacity, simulator) and the report. Profiles bound the time:
`ci` is one replica count and short steps. The seed spike predictions run on the cluster's
clock (15 s sync); the local spike on the daemon's compressed clock (`time_scale`).
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from autoscaler.capacity import (
    Spike,
    StepResult,
    answer,
    find_knees,
    predict_scale_time,
    step_failure,
)
from autoscaler.simulator import (
    LoadPhase,
    ReplicaModel,
    SimConfig,
    SimResult,
    simulate,
)
from autoscaler.spec import HpaSpec
from slo.capacity_report import CapacityReport, LocalSpike
from slo.measure_scale import events_from_records, replica_timeline, scale_time

# The seed's throughput target, and its spike: a step to 5,000 req/s from a calm 300 req/s
# (3 pods at their 100 req/s target), held 10 min; and the k6 script's 30 s spike.
SEED_SPIKES = (
    Spike(baseline_rps=300, peak_rps=5000, at_s=120, hold_s=600, after_s=900),
    Spike(baseline_rps=300, peak_rps=5000, at_s=120, hold_s=30, after_s=300),
)


@dataclass(frozen=True)
class StepFigures:
    achieved_rps: float
    p95_ms: float | None
    error_rate: float | None


@dataclass(frozen=True)
class ObservedSpike:
    region: str
    step_t_wall: float
    events: list[dict[str, Any]]
    p95_ms: list[tuple[float, float | None]]  # (whole wall second, p95)
    # requests each replica answered during the peak (its own counters), when measured
    served_requests: dict[str, int] = field(default_factory=dict)
    load_end_t_wall: float | None = None


@dataclass(frozen=True)
class LocalSpikePlan:
    spike: Spike
    time_scale: float = 0.1
    period_s: float = 1.5
    rate_window_s: float = 10.0


@dataclass(frozen=True)
class Profile:
    name: str
    replica_counts: tuple[int, ...]
    start_rps_per_replica: float
    factor: float
    max_rps_per_replica: float
    step_s: float
    local_spike: LocalSpikePlan | None


_LOCAL = LocalSpikePlan(
    Spike(baseline_rps=150, peak_rps=600, at_s=20, hold_s=60, after_s=40), rate_window_s=5.0
)
# ci: 3 -> 5 replicas on the rps metric; after the load, 30 s (300 s x 0.1) before scale-down
_LOCAL_CI = LocalSpikePlan(
    Spike(baseline_rps=90, peak_rps=450, at_s=10, hold_s=30, after_s=45), rate_window_s=5.0
)
PROFILES = {
    "ci": Profile("ci", (1,), 50, 1.6, 4000, 8, _LOCAL_CI),
    "nightly": Profile("nightly", (1, 2), 25, 1.4, 6000, 20, _LOCAL),
    "gameday": Profile("gameday", (1, 2, 3), 25, 1.3, 8000, 30, _LOCAL),
    "full": Profile("full", (1, 2, 4), 25, 1.25, 10000, 60, _LOCAL),
}


class CapacityTarget(Protocol):
    def set_replicas(self, replicas: int) -> None:
        """Fix the measured region at `replicas` (autoscaler off); return once they are ready."""
        ...

    def load_step(self, rate_rps: float, duration_s: float) -> StepFigures:
        """Offer `rate_rps` (open model) for `duration_s`; the load generator's figures."""
        ...

    def measure_startup(self) -> list[float]:
        """Start replicas and time each from start to ready, in seconds."""
        ...


@runtime_checkable
class SpikeTarget(Protocol):
    def run_spike(self, plan: LocalSpikePlan) -> ObservedSpike:
        """Run the spike with the autoscaler on (plan's time scale and period)."""
        ...


def _rescaled(result: SimResult, factor: float) -> SimResult:
    return SimResult(
        tuple(dataclasses.replace(p, t=p.t * factor) for p in result.points),
        tuple(dataclasses.replace(d, t=d.t * factor) for d in result.decisions),
        result.dropped_metrics,
    )


def predict_local(
    spec: HpaSpec,
    plan: LocalSpikePlan,
    *,
    knee_per_replica_rps: float,
    startup_s: float,
    saturation_rps: float | None = None,
) -> tuple[SimResult, float | None]:
    """The local spike as the daemon runs it: HPA time = real time / time_scale."""
    k = plan.time_scale
    s = plan.spike
    phases = [
        LoadPhase(0.0, s.baseline_rps),
        LoadPhase(s.at_s / k, s.peak_rps),
        LoadPhase((s.at_s + s.hold_s) / k, s.baseline_rps),
    ]
    result = simulate(
        spec,
        phases,
        ReplicaModel(
            capacity_rps=knee_per_replica_rps,
            startup_s=startup_s / k,
            saturation_rps=saturation_rps,
        ),
        SimConfig(
            duration_s=s.duration_s / k,
            sync_period_s=plan.period_s / k,
            metric_window_s=plan.rate_window_s / k,
        ),
    )
    st = result.scale_time_s(s.at_s / k)
    return _rescaled(result, k), None if st is None else st * k


def run_ladder(
    target: CapacityTarget,
    profile: Profile,
    *,
    p95_target_ms: float,
    progress: Callable[[str], None] = lambda _: None,
) -> list[StepResult]:
    """Step the load per replica count until the first failing step."""
    steps: list[StepResult] = []
    for replicas in profile.replica_counts:
        target.set_replicas(replicas)
        rate = profile.start_rps_per_replica * replicas
        while rate <= profile.max_rps_per_replica * replicas:
            fig = target.load_step(rate, profile.step_s)
            step = StepResult(
                replicas, rate, fig.achieved_rps, fig.p95_ms, fig.error_rate, profile.step_s
            )
            steps.append(step)
            why = step_failure(
                step, p95_target_ms=p95_target_ms, max_error_rate=0.01, min_delivered=0.9
            )
            progress(
                f"{replicas} replica(s) at {rate:,.0f} req/s: achieved {fig.achieved_rps:,.0f}, "
                f"p95 {fig.p95_ms if fig.p95_ms is not None else 'n/a'} ms"
                + (f" -> knee passed ({why})" if why else "")
            )
            if why:
                break
            rate *= profile.factor
    return steps


def analyse(
    spec: HpaSpec,
    steps: Sequence[StepResult],
    *,
    profile: str,
    startup_s: Sequence[float],
    p95_target_ms: float = 100.0,
    target_rps: float = 5000.0,
    spikes: Sequence[Spike] = SEED_SPIKES,
) -> CapacityReport:
    """Knees, answers and predictions from measured figures (pure)."""
    knees = find_knees(steps, p95_target_ms=p95_target_ms)
    problems: list[str] = []
    measured = [k for k in knees.values() if k.per_replica_rps is not None]
    startup = statistics.median(startup_s) if startup_s else None
    report = CapacityReport(
        profile=profile,
        p95_target_ms=p95_target_ms,
        target_rps=target_rps,
        knees=knees,
        answers=None,
        startup_s=startup,
        startup_source=f"median of {len(startup_s)} measured" if startup_s else "not measured",
        problems=problems,
    )
    if not measured:
        problems.append("no step held the targets: no knee")
        return report
    # the most conservative per-replica figure across the replica counts measured
    knee = min(measured, key=lambda k: k.per_replica_rps or 0.0)
    per_replica = knee.per_replica_rps
    assert per_replica is not None
    report.answers = answer(
        per_replica,
        spec,
        target_rps=target_rps,
        knee_bounded=knee.bounded,
        replica_counts_measured=[s.replicas for s in steps],
    )
    saturation = max(per_replica, max(s.achieved_rps / s.replicas for s in steps))
    if startup is None:
        problems.append("replica start-up time not measured: no scale-time prediction")
        return report
    report.predictions = [
        predict_scale_time(
            spec,
            spike,
            knee_per_replica_rps=per_replica,
            startup_s=startup,
            saturation_rps=saturation,
        )
        for spike in spikes
    ]
    return report


def attach_local_spike(
    report: CapacityReport,
    spec: HpaSpec,
    plan: LocalSpikePlan,
    observed: ObservedSpike,
    *,
    local_max_replicas: int | None = None,
) -> None:
    """Predicted vs observed for a spike run on the local stack."""
    if report.answers is None or report.startup_s is None:
        report.problems.append("local spike not predicted: no knee or no start-up time")
        return
    local_spec = (
        spec
        if local_max_replicas is None
        else dataclasses.replace(spec, max_replicas=min(spec.max_replicas, local_max_replicas))
    )
    predicted, predicted_st = predict_local(
        local_spec,
        plan,
        knee_per_replica_rps=report.answers.knee_per_replica_rps,
        startup_s=report.startup_s,
    )
    events = events_from_records(observed.events)
    observed_st = scale_time(
        events,
        observed.p95_ms,
        step_t_wall=observed.step_t_wall,
        region=observed.region,
        p95_target_ms=report.p95_target_ms,
    )
    report.local = LocalSpike(
        step_t_wall=observed.step_t_wall,
        observed=tuple(replica_timeline(events, observed.region)),
        observed_scale_time=observed_st,
        predicted=predicted,
        predicted_step_s=plan.spike.at_s,
        predicted_scale_time_s=predicted_st,
        observed_p95_ms=tuple(observed.p95_ms),
        served_requests=dict(observed.served_requests),
    )
    if observed_st.scale_time_s is None:
        report.problems.append(f"local scale time inconclusive: {observed_st.reason}")


__all__ = [
    "PROFILES",
    "SEED_SPIKES",
    "CapacityTarget",
    "LocalSpikePlan",
    "ObservedSpike",
    "Profile",
    "SpikeTarget",
    "StepFigures",
    "analyse",
    "attach_local_spike",
    "predict_local",
    "run_ladder",
]

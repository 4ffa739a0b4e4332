"""`gameday capacity` orchestration against a small target interface (the stack wires it).

A `CapacityTarget` fixes the replica count, runs one load step and returns its measured figures,
times replica start-ups, and (optionally) runs a spike with the autoscaler on. This module only
sequences those calls: for each trial, for each replica count, a ladder on the profile's grid of
offered rates that stops once the knee is located between a step that held and the next grid
point that failed; then it hands the figures to the pure analysis (slo.capacity_knees, the
USL fit, the simulator) and the report. Profiles bound the time: `ci` is 1-3 replicas, two
trials, 3 s steps. The seed spike predictions run on the cluster's
clock (15 s sync); the local spike on the daemon's compressed clock (`time_scale`).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from autoscaler.capacity import (
    CapacityAnswers,
    Spike,
    StepResult,
    answer,
    predict_scale_time,
)
from autoscaler.simulator import (
    LoadPhase,
    ReplicaModel,
    SimConfig,
    SimResult,
    simulate,
)
from autoscaler.spec import HpaSpec
from slo.capacity_knees import ReplicaKnee, Step, StepLoad, replica_knees
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
    load: StepLoad | None = None  # the generator's and the machine's side, when measured


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
    """A ladder on a geometric grid of offered rates (total req/s): start_rps x factor^k.

    Each trial steps every replica count; the first ladder jumps `first_jump` grid points at a
    time, then fills the gap below its first failure; later ladders start at the knee already
    found (same replica count in an earlier trial, else the count below in this trial scaled
    linearly, rounded down). A ladder whose first step fails steps down, to `min_rps` at most.
    """

    name: str
    replica_counts: tuple[int, ...]
    trials: int
    start_rps: float
    factor: float
    max_rps_per_replica: float
    step_s: float
    local_spike: LocalSpikePlan | None
    first_jump: int = 2
    min_rps: float = 50.0  # a ladder whose first step fails steps down to here, no lower

    def rate(self, k: int) -> float:
        return round(self.start_rps * self.factor**k, 1)

    @property
    def bottom_index(self) -> int:
        """The lowest grid point (<= 0) still >= min_rps."""
        k = 0
        while self.rate(k - 1) >= self.min_rps:
            k -= 1
        return k

    def linear_hint(self, k: int, replicas_from: int, replicas_to: int) -> int:
        """Grid index of rate(k) x replicas_to / replicas_from, rounded down (linear guess)."""
        ratio = replicas_to / replicas_from
        return k + max(0, math.floor(math.log(ratio) / math.log(self.factor) + 1e-9))

    def top_index(self, replicas: int) -> int:
        """The highest grid point within max_rps_per_replica x replicas."""
        k = 0
        while self.rate(k + 1) <= self.max_rps_per_replica * replicas:
            k += 1
        return k


_LOCAL = LocalSpikePlan(
    Spike(baseline_rps=150, peak_rps=600, at_s=20, hold_s=60, after_s=40), rate_window_s=5.0
)
# ci: 3 -> 5 replicas on the rps metric; after the load, 30 s (300 s x 0.1) before scale-down
_LOCAL_CI = LocalSpikePlan(
    Spike(baseline_rps=90, peak_rps=450, at_s=10, hold_s=30, after_s=45), rate_window_s=5.0
)
_ROOT2 = 2**0.5
PROFILES = {
    # smoke: the quickest run that exercises every part (the tests' profile): replicas 1-2,
    # 2 trials, 2 s steps on a doubling grid, the ci local spike
    "smoke": Profile("smoke", (1, 2), 2, 200, 2.0, 4000, 2, _LOCAL_CI),
    # ci: replicas 1-3, 2 trials, 3 s steps on a sqrt(2) grid: ~15 steps, ~2 min of ladder
    "ci": Profile("ci", (1, 2, 3), 2, 200, _ROOT2, 4000, 3, _LOCAL_CI),
    "nightly": Profile("nightly", (1, 2, 3), 3, 100, 2**0.25, 6000, 10, _LOCAL),
    "gameday": Profile("gameday", (1, 2, 3, 4), 3, 100, 2**0.25, 8000, 20, _LOCAL),
    "full": Profile("full", (1, 2, 4, 6), 5, 100, 2**0.125, 10000, 30, _LOCAL),
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


def _next_index(
    held: dict[int, bool], start: int, jump: int, top: int, bottom: int = 0
) -> int | None:
    """The next grid point to measure, or None when the knee is located (or out of range)."""
    passed = [k for k, ok in held.items() if ok]
    failed = [k for k, ok in held.items() if not ok]
    hi = min(failed) if failed else None
    below = [k for k in passed if hi is None or k < hi]
    lo = max(below) if below else None
    if hi is None:
        k = start if lo is None else lo + jump
        if k > top and lo is not None and lo < top:
            k = top  # the last grid point below the cap, not past it
        return k if k <= top and k not in held else None
    if lo is None:
        return hi - 1 if hi > bottom else None
    return (lo + hi) // 2 if hi - lo > 1 else None


def _ladder(
    target: CapacityTarget,
    profile: Profile,
    replicas: int,
    trial: int,
    *,
    start: int,
    jump: int,
    p95_target_ms: float,
    progress: Callable[[str], None],
) -> tuple[list[Step], int | None]:
    """One (replica count, trial) ladder; returns its steps and the knee's grid index."""
    held: dict[int, bool] = {}
    steps: list[Step] = []
    top = profile.top_index(replicas)
    start, bottom = min(start, top), profile.bottom_index
    k = _next_index(held, start, jump, top, bottom)
    while k is not None:
        rate = profile.rate(k)
        fig = target.load_step(rate, profile.step_s)
        result = StepResult(
            replicas, rate, fig.achieved_rps, fig.p95_ms, fig.error_rate, profile.step_s
        )
        step = Step(trial, result, fig.load or StepLoad())
        steps.append(step)
        why = step.failure(p95_target_ms)
        held[k] = why is None
        gen = step.generator_limited(p95_target_ms)
        progress(
            f"trial {trial}, {replicas} replica(s) at {rate:,.0f} req/s: achieved "
            f"{fig.achieved_rps:,.0f}, p95 {fig.p95_ms if fig.p95_ms is not None else 'n/a'} ms"
            + (f" -> fails ({why})" if why else "")
            + (f" [generator-limited: {gen}]" if gen else "")
            + (f" [busy machine: {b}]" if (b := step.load.busy()) else "")
        )
        k = _next_index(held, start, jump, top, bottom)
    hi = min((i for i, ok in held.items() if not ok), default=None)
    knee = [i for i, ok in held.items() if ok and (hi is None or i < hi)]
    return steps, (max(knee) if knee else None)


def run_ladder(
    target: CapacityTarget,
    profile: Profile,
    *,
    p95_target_ms: float,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Step]:
    """Every trial steps every replica count, each ladder until its knee is located.

    Trials are the outer loop, so a machine that gets busier over the run weighs on every
    replica count alike instead of on the last one measured.
    """
    steps: list[Step] = []
    knee_at: dict[tuple[int, int], int | None] = {}
    for trial in range(1, profile.trials + 1):
        for i, replicas in enumerate(profile.replica_counts):
            hint = knee_at.get((trial - 1, replicas))
            below = knee_at.get((trial, profile.replica_counts[i - 1])) if i > 0 else None
            if hint is None and below is not None:
                hint = (
                    below
                    if below == profile.bottom_index
                    else profile.linear_hint(below, profile.replica_counts[i - 1], replicas)
                )
            target.set_replicas(replicas)
            found, knee = _ladder(
                target, profile, replicas, trial,
                start=0 if hint is None else hint,
                jump=profile.first_jump if hint is None else 1,
                p95_target_ms=p95_target_ms, progress=progress,
            )  # fmt: skip
            # no knee down to the floor: later ladders start there instead of walking down again
            knee_at[(trial, replicas)] = profile.bottom_index if knee is None else knee
            steps += found
    return steps


def _answers(
    spec: HpaSpec, knees: dict[int, ReplicaKnee], target_rps: float
) -> CapacityAnswers | None:
    """The HPA's answers at the most conservative per-replica knee measured."""
    measured = [k for k in knees.values() if k.per_replica_rps is not None]
    if not measured:
        return None
    knee = min(measured, key=lambda k: k.per_replica_rps or 0.0)
    assert knee.per_replica_rps is not None
    return answer(
        knee.per_replica_rps,
        spec,
        target_rps=target_rps,
        knee_bounded=knee.bounded,
        replica_counts_measured=list(knees),
    )


def analyse(
    spec: HpaSpec,
    steps: Sequence[Step],
    *,
    profile: str,
    startup_s: Sequence[float],
    p95_target_ms: float = 100.0,
    target_rps: float = 5000.0,
    spikes: Sequence[Spike] = SEED_SPIKES,
) -> CapacityReport:
    """Knees, the scaling law, answers and predictions from measured figures (pure)."""
    knees = replica_knees(steps, p95_target_ms)
    problems: list[str] = []
    startup = statistics.median(startup_s) if startup_s else None
    report = CapacityReport(
        profile=profile,
        p95_target_ms=p95_target_ms,
        target_rps=target_rps,
        knees=knees,
        answers=_answers(spec, knees, target_rps),
        startup_s=startup,
        startup_source=f"median of {len(startup_s)} measured" if startup_s else "not measured",
        problems=problems,
    )
    if report.answers is None:
        problems.append("no step held the targets: no knee")
        return report
    per_replica = report.answers.knee_per_replica_rps
    saturation = max(per_replica, max(s.result.achieved_rps / s.result.replicas for s in steps))
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
    if predicted_st is None:
        report.problems.append(
            f"local spike not predicted to recover: {plan.spike.peak_rps:,.0f} req/s needs more "
            f"than {local_spec.max_replicas} replicas at the knee of "
            f"{report.answers.knee_per_replica_rps:,.0f} req/s per replica"
        )


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

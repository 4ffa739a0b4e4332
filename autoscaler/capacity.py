"""Capacity answers from step-load results: the knee per replica and what it implies. Pure.

A step is a fixed replica count loaded at one offered rate; its figures are measured by the
load generator (achieved rate, p95, error rate). The knee is the highest achieved req/s whose
p95 is under target and whose error rate is under 1 %, taken among the steps *below the first
failing one* (ordered by offered rate), so a lucky step above a failure does not count. A step
that achieves under `min_delivered` of its offered rate counts as failing (saturated, or the
generator could not keep up: either way the rate was not proven). Missing figures fail a step:
no data is never a pass. Per-replica capacity = knee / replicas (linear scaling assumed; say
so when only one replica count was measured).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from autoscaler.simulator import LoadPhase, ReplicaModel, SimConfig, SimResult, simulate
from autoscaler.spec import HpaSpec


@dataclass(frozen=True)
class StepResult:
    replicas: int
    offered_rps: float
    achieved_rps: float
    p95_ms: float | None
    error_rate: float | None  # 0..1
    duration_s: float = 0.0


@dataclass(frozen=True)
class Knee:
    replicas: int
    rps: float | None  # total achieved at the knee; None when no step passed
    bounded: bool  # a failing step above it was measured (else the knee is a lower bound)
    why_next_failed: str | None
    steps: tuple[StepResult, ...]

    @property
    def per_replica_rps(self) -> float | None:
        return None if self.rps is None else self.rps / self.replicas


def step_failure(
    step: StepResult, *, p95_target_ms: float, max_error_rate: float, min_delivered: float
) -> str | None:
    """Why a step breaks the targets, or None when it holds them."""
    if step.p95_ms is None or step.error_rate is None:
        return "no latency or error figures"
    if step.error_rate >= max_error_rate:
        return f"errors {step.error_rate:.2%} >= {max_error_rate:.0%}"
    if step.p95_ms >= p95_target_ms:
        return f"p95 {step.p95_ms:.1f} ms >= {p95_target_ms:g} ms"
    if step.offered_rps > 0 and step.achieved_rps < min_delivered * step.offered_rps:
        return f"achieved {step.achieved_rps:.0f} of {step.offered_rps:.0f} req/s offered"
    return None


def find_knees(
    steps: Iterable[StepResult],
    *,
    p95_target_ms: float = 100.0,
    max_error_rate: float = 0.01,
    min_delivered: float = 0.9,
) -> dict[int, Knee]:
    """The knee for each replica count measured."""
    by_replicas: dict[int, list[StepResult]] = {}
    for s in steps:
        if s.replicas < 1:
            raise ValueError(f"a step needs at least one replica, got {s.replicas}")
        by_replicas.setdefault(s.replicas, []).append(s)
    knees: dict[int, Knee] = {}
    for replicas, group in sorted(by_replicas.items()):
        ordered = tuple(sorted(group, key=lambda s: s.offered_rps))
        best: float | None = None
        why: str | None = None
        for s in ordered:
            why = step_failure(
                s,
                p95_target_ms=p95_target_ms,
                max_error_rate=max_error_rate,
                min_delivered=min_delivered,
            )
            if why is not None:
                break
            best = s.achieved_rps if best is None else max(best, s.achieved_rps)
        knees[replicas] = Knee(replicas, best, why is not None, why, ordered)
    return knees


@dataclass(frozen=True)
class CapacityAnswers:
    knee_per_replica_rps: float
    knee_bounded: bool
    target_rps: float
    replicas_needed: int  # for target_rps at the knee
    hpa_target_rps_per_pod: float | None
    hpa_replicas_for_target: int | None  # what the HPA asks for at target_rps
    hpa_target_consistent: bool | None  # pods hit the HPA target (with tolerance) before the knee
    max_replicas: int
    max_replicas_consistent: bool  # maxReplicas covers both counts above
    capacity_at_max_rps: float
    notes: tuple[str, ...] = field(default_factory=tuple)


def hpa_rps_target(spec: HpaSpec, metric: str = "http_requests_per_second") -> float | None:
    for m in spec.metrics:
        if m.pods is not None and m.pods.metric.name == metric:
            return m.pods.target.averageValue
    return None


def answer(
    knee_per_replica_rps: float,
    spec: HpaSpec,
    *,
    target_rps: float = 5000.0,
    knee_bounded: bool = True,
    replica_counts_measured: Sequence[int] = (),
) -> CapacityAnswers:
    """Replicas needed for `target_rps`, and whether the HPA's req/s target and max agree."""
    if knee_per_replica_rps <= 0:
        raise ValueError("knee_per_replica_rps must be positive")
    needed = math.ceil(target_rps / knee_per_replica_rps)
    per_pod = hpa_rps_target(spec)
    notes: list[str] = []
    if per_pod is not None:
        hpa_count = math.ceil(target_rps / per_pod)
        highest = per_pod * (1 + spec.scale_up.tolerance)
        consistent: bool | None = highest <= knee_per_replica_rps
        if consistent:
            notes.append(
                f"the HPA scales out at {per_pod:g} req/s per pod (up to {highest:g} with the "
                f"tolerance), below the knee of {knee_per_replica_rps:.0f}: "
                f"{knee_per_replica_rps / per_pod:.1f}x headroom per pod"
            )
        else:
            notes.append(
                f"pods may run at up to {highest:g} req/s before the HPA acts, above the knee "
                f"of {knee_per_replica_rps:.0f}: p95 breaks before scaling starts"
            )
    else:
        hpa_count, consistent = None, None
        notes.append("the HPA has no req/s metric: only CPU/memory drive it")
    wanted = max(needed, hpa_count or 0)
    max_ok = spec.max_replicas >= wanted
    if hpa_count is not None and hpa_count == spec.max_replicas:
        notes.append(
            f"at {target_rps:g} req/s the HPA asks for exactly maxReplicas ({spec.max_replicas}):"
            " no room above the target"
        )
    if not knee_bounded:
        notes.append("no step broke the targets: the knee is a lower bound")
    if len(set(replica_counts_measured)) == 1:
        notes.append(
            f"measured at {replica_counts_measured[0]} replica(s) only: per-replica capacity "
            "assumes linear scaling (shared database, Redis and load balancer may not)"
        )
    return CapacityAnswers(
        knee_per_replica_rps=knee_per_replica_rps,
        knee_bounded=knee_bounded,
        target_rps=target_rps,
        replicas_needed=needed,
        hpa_target_rps_per_pod=per_pod,
        hpa_replicas_for_target=hpa_count,
        hpa_target_consistent=consistent,
        max_replicas=spec.max_replicas,
        max_replicas_consistent=max_ok,
        capacity_at_max_rps=spec.max_replicas * knee_per_replica_rps,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class Spike:
    """A load step from `baseline_rps` to `peak_rps` at `at_s`, held `hold_s`, then back."""

    baseline_rps: float
    peak_rps: float
    at_s: float = 120.0
    hold_s: float = 600.0
    after_s: float = 600.0

    def phases(self) -> list[LoadPhase]:
        return [
            LoadPhase(0.0, self.baseline_rps),
            LoadPhase(self.at_s, self.peak_rps),
            LoadPhase(self.at_s + self.hold_s, self.baseline_rps),
        ]

    @property
    def duration_s(self) -> float:
        return self.at_s + self.hold_s + self.after_s


@dataclass(frozen=True)
class Prediction:
    spike: Spike
    scale_time_s: float | None
    first_scale_s: float | None
    result: SimResult


def predict_scale_time(
    spec: HpaSpec,
    spike: Spike,
    *,
    knee_per_replica_rps: float,
    startup_s: float,
    saturation_rps: float | None = None,
    sync_period_s: float = 15.0,
    metric_window_s: float = 30.0,
) -> Prediction:
    """Simulate the HPA over the spike with the measured capacity and start-up time."""
    result = simulate(
        spec,
        spike.phases(),
        ReplicaModel(
            capacity_rps=knee_per_replica_rps, startup_s=startup_s, saturation_rps=saturation_rps
        ),
        SimConfig(
            duration_s=spike.duration_s,
            sync_period_s=sync_period_s,
            metric_window_s=metric_window_s,
        ),
    )
    return Prediction(
        spike, result.scale_time_s(spike.at_s), result.first_scale_s(spike.at_s), result
    )

"""Knees from repeated step ladders: per trial, per replica count with an interval, and who
saturated (target, generator or a busy machine). Pure: measured figures in, judgements out.

A *step* is one offered rate (open model) at one replica count in one trial. Its figures come
from the load generator (autoscaler.capacity.StepResult) and, beside them, a `StepLoad`: the
open model's intended and `late` arrivals over the measured seconds, the generator's CPU use
and run-queue wait (its `load.generator` events), the machine's 1-minute load average before
the step and the CPU the rest of the machine used during it.

- **Generator-limited** (the step measured the generator, not the target): the generator used
  >= GEN_CPU_LIMIT of a core; or >= LATE_LIMIT of the arrivals were late while the requests
  that were sent stayed under the p95 target (the target was fast; the generator fell
  behind); or arrivals were late while the generator waited >= RUNQ_LIMIT s per s for a CPU.
- **Busy machine**: others (everything but the stack and the generator) used >= BUSY_CORES
  cores during the step, or, when that was not measured, the load average per CPU before the
  step was >= BUSY_LOAD_PER_CPU.

The knee of one trial is the highest achieved rate among the steps below its first failing
step (the rule of autoscaler.capacity); its *ceiling* is that failing step's offered rate: the
knee lies between the two. Per replica count, the knee is the median over the trials and its
interval runs from the lowest trial knee to the highest ceiling (open above when a trial never
failed): what the ladder's resolution and the trials' spread allow us to say. A trial whose
failing step was generator-limited is shown, and left out of the scaling-law fit.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from autoscaler.capacity import StepResult, step_failure

GEN_CPU_LIMIT = 0.8  # cores: one Locust process is one Python thread, it tops out at 1
LATE_LIMIT = 0.01  # share of the intended arrivals
RUNQ_LIMIT = 0.5  # s waited for a CPU per s of the generator's life
BUSY_CORES = 0.5  # CPU used by others during the step
BUSY_LOAD_PER_CPU = 1.5  # fallback when others' CPU was not measured
MAX_ERROR_RATE = 0.01
MIN_DELIVERED = 0.9


@dataclass(frozen=True)
class StepLoad:
    """The generator's and the machine's side of one step (None: not measured)."""

    intended: int | None = None  # arrivals due over the measured seconds (sent + late)
    late: int | None = None
    generator_cpu: float | None = None  # cores, the busiest generator process over its life
    generator_runq: float | None = None  # s waiting for a CPU per s, the same process
    load1: float | None = None  # 1-minute load average before the step
    others_cores: float | None = None  # CPU used by the rest of the machine during the step
    cpus: int | None = None

    @property
    def late_share(self) -> float | None:
        if self.intended is None or self.late is None or self.intended <= 0:
            return None
        return self.late / self.intended

    def generator_limit(self, *, target_fast: bool) -> str | None:
        """Why the generator, not the target, set this step's figures (None: it did not)."""
        if self.generator_cpu is not None and self.generator_cpu >= GEN_CPU_LIMIT:
            return f"generator CPU {self.generator_cpu:.2f} cores >= {GEN_CPU_LIMIT:g}"
        late = self.late_share
        if late is None or late < LATE_LIMIT:
            return None
        if target_fast:
            return f"{late:.1%} of arrivals late while the sent requests met the p95 target"
        if self.generator_runq is not None and self.generator_runq >= RUNQ_LIMIT:
            return (
                f"{late:.1%} of arrivals late; the generator waited "
                f"{self.generator_runq:.2f} s/s for a CPU"
            )
        return None

    def busy(self) -> str | None:
        """Why the machine counts as busy during this step (None: it did not)."""
        if self.others_cores is not None:
            if self.others_cores >= BUSY_CORES:
                return f"others used {self.others_cores:.2f} cores"
            return None
        if self.load1 is not None and self.cpus:
            if self.load1 / self.cpus >= BUSY_LOAD_PER_CPU:
                return f"load average {self.load1:.2f} on {self.cpus} CPUs"
        return None


@dataclass(frozen=True)
class Step:
    trial: int
    result: StepResult
    load: StepLoad = field(default_factory=StepLoad)

    def failure(self, p95_target_ms: float) -> str | None:
        return step_failure(
            self.result,
            p95_target_ms=p95_target_ms,
            max_error_rate=MAX_ERROR_RATE,
            min_delivered=MIN_DELIVERED,
        )

    def generator_limited(self, p95_target_ms: float) -> str | None:
        p95 = self.result.p95_ms
        return self.load.generator_limit(target_fast=p95 is not None and p95 < p95_target_ms)

    def to_json(self, p95_target_ms: float) -> dict[str, Any]:
        return {
            "trial": self.trial,
            **asdict(self.result),
            "load": asdict(self.load),
            "failed": self.failure(p95_target_ms),
            "generator_limited": self.generator_limited(p95_target_ms),
            "busy": self.load.busy(),
        }


@dataclass(frozen=True)
class TrialKnee:
    replicas: int
    trial: int
    rps: float | None  # achieved at the highest step that held (None: none held)
    ceiling_rps: float | None  # offered at the first failing step (None: none failed)
    why: str | None
    generator_limited: str | None  # the failing step was the generator's
    busy: str | None  # a step of this trial ran on a busy machine
    steps: tuple[Step, ...]

    @property
    def in_fit(self) -> bool:
        return self.rps is not None and self.generator_limited is None


@dataclass(frozen=True)
class ReplicaKnee:
    replicas: int
    trials: tuple[TrialKnee, ...]

    @property
    def values(self) -> list[float]:
        return [t.rps for t in self.trials if t.rps is not None]

    @property
    def rps(self) -> float | None:
        """Median trial knee (total req/s)."""
        return statistics.median(self.values) if self.values else None

    @property
    def per_replica_rps(self) -> float | None:
        return None if self.rps is None else self.rps / self.replicas

    @property
    def low(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def high(self) -> float | None:
        """Highest ceiling over the trials; None (open) when a trial never failed."""
        if any(t.ceiling_rps is None for t in self.trials) or not self.trials:
            return None
        return max(t.ceiling_rps for t in self.trials if t.ceiling_rps is not None)

    @property
    def bounded(self) -> bool:
        return self.high is not None

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(s for t in self.trials for s in t.steps)

    def to_json(self, p95_target_ms: float) -> dict[str, Any]:
        return {
            "rps": self.rps,
            "per_replica_rps": self.per_replica_rps,
            "interval_rps": [self.low, self.high],
            "bounded": self.bounded,
            "trials": [
                {
                    "trial": t.trial,
                    "rps": t.rps,
                    "ceiling_rps": t.ceiling_rps,
                    "why_next_failed": t.why,
                    "generator_limited": t.generator_limited,
                    "busy": t.busy,
                    "in_fit": t.in_fit,
                }
                for t in self.trials
            ],
            "steps": [s.to_json(p95_target_ms) for s in self.steps],
        }


def trial_knee(steps: Sequence[Step], p95_target_ms: float) -> TrialKnee:
    """The knee of one (replica count, trial) ladder."""
    ordered = tuple(sorted(steps, key=lambda s: s.result.offered_rps))
    best: float | None = None
    fail: Step | None = None
    why: str | None = None
    for s in ordered:
        why = s.failure(p95_target_ms)
        if why is not None:
            fail = s
            break
        best = s.result.achieved_rps if best is None else max(best, s.result.achieved_rps)
    busy = next((b for s in ordered if (b := s.load.busy())), None)
    return TrialKnee(
        replicas=ordered[0].result.replicas,
        trial=ordered[0].trial,
        rps=best,
        ceiling_rps=None if fail is None else fail.result.offered_rps,
        why=why,
        generator_limited=None if fail is None else fail.generator_limited(p95_target_ms),
        busy=busy,
        steps=ordered,
    )


def replica_knees(steps: Iterable[Step], p95_target_ms: float) -> dict[int, ReplicaKnee]:
    """Knees per replica count, each from its trials."""
    groups: dict[tuple[int, int], list[Step]] = {}
    for s in steps:
        if s.result.replicas < 1:
            raise ValueError(f"a step needs at least one replica, got {s.result.replicas}")
        groups.setdefault((s.result.replicas, s.trial), []).append(s)
    by_n: dict[int, list[TrialKnee]] = {}
    for (n, _), group in sorted(groups.items()):
        by_n.setdefault(n, []).append(trial_knee(group, p95_target_ms))
    return {n: ReplicaKnee(n, tuple(trials)) for n, trials in by_n.items()}


def fit_points(knees: dict[int, ReplicaKnee]) -> tuple[list[tuple[float, float]], list[str]]:
    """(replicas, knee) of every trial the fit may use, and why the others are left out."""
    points: list[tuple[float, float]] = []
    left_out: list[str] = []
    for n, k in knees.items():
        for t in k.trials:
            if t.rps is None:
                left_out.append(f"{n} replica(s), trial {t.trial}: no step held the targets")
            elif t.generator_limited:
                left_out.append(
                    f"{n} replica(s), trial {t.trial}: generator-limited ({t.generator_limited})"
                )
            else:
                points.append((float(n), t.rps))
    return points, left_out


def intervals_overlap(a: Sequence[float | None], b: Sequence[float | None]) -> bool | None:
    """Whether two [low, high] knee intervals overlap (high None: open above)."""
    (alo, ahi), (blo, bhi) = a, b
    if alo is None or blo is None:
        return None
    return (bhi is None or alo <= bhi) and (ahi is None or blo <= ahi)


def machine_summary(
    steps: Sequence[Step],
    *,
    wall_s: float | None,
    load_before: Sequence[float] | None,
    load_after: Sequence[float] | None,
    cpus: int | None,
) -> dict[str, Any]:
    """How busy the machine was over the run, in figures and one sentence for the report."""
    others = [s.load.others_cores for s in steps if s.load.others_cores is not None]
    loads = [s.load.load1 for s in steps if s.load.load1 is not None]
    busy = [s for s in steps if s.load.busy()]
    out: dict[str, Any] = {
        "wall_s": wall_s,
        "cpus": cpus,
        "load_avg_before": list(load_before) if load_before else None,
        "load_avg_after": list(load_after) if load_after else None,
        "load1_max": max(loads) if loads else None,
        "others_cores_median": statistics.median(others) if others else None,
        "others_cores_max": max(others) if others else None,
        "steps": len(steps),
        "busy_steps": len(busy),
    }
    parts = []
    if wall_s is not None:
        parts.append(f"the run took {wall_s:.0f} s")
    if load_before and load_after:
        parts.append(
            f"load average (1/5/15 min) {'/'.join(f'{x:.2f}' for x in load_before)} before and "
            f"{'/'.join(f'{x:.2f}' for x in load_after)} after, on {cpus or '?'} CPUs"
        )
    if others:
        parts.append(
            f"others used {out['others_cores_median']:.2f} cores (median over the steps; "
            f"max {out['others_cores_max']:.2f})"
        )
    parts.append(f"{len(busy)} of {len(steps)} steps ran on a busy machine")
    out["note"] = "; ".join(parts) + "."
    return out

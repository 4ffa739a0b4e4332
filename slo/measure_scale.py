"""Scale time and replicas per region over time, from events and the per-second p95.

Scale time (DESIGN.md): from a `load.step` to the moment the desired replicas
are ready and p95 is back under target. This is the one scale-time measure: the
run verdict (`measure_scale`) and `gameday capacity` (`scale_time`, one region)
both count with `scale_for_step`. Desired = the highest `scale.decision`
desired per region before the next step; ready = the decision's `current` plus
distinct replicas reporting `replica.ready` since. p95 is "back" at the first
second from which it stays under target for a sustained window. Limits: replica
counts come from events only (an autoscaler that does not report cannot be seen);
scale-down needs `replica.stopped` events to show in the replicas plot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slo.results import ScaleStep, Series
from slo.runfolder import Event


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _p95_back(
    series: Series, from_wall: float, target_ms: float, sustained_s: float
) -> float | None:
    """First second >= from_wall opening a run of `sustained_s` seconds all under target."""
    need = max(1, math.ceil(sustained_s))
    run_start: int | None = None
    run_len = 0
    prev: int | None = None
    start_second = math.floor(from_wall)
    for t, p95 in zip(series.t, series.p95_ms, strict=True):
        if t < start_second:
            continue
        contiguous = prev is not None and t == prev + 1
        prev = t
        if p95 is None or p95 >= target_ms:
            run_start, run_len = None, 0
            continue
        if run_start is None or not contiguous:
            run_start, run_len = t, 0
        run_len += 1
        if run_len >= need:
            return float(run_start)
    return None


def _desired(
    window: Sequence[Event], region: str | None
) -> tuple[dict[str, int], dict[str, int], dict[str, float]]:
    """Scale-ups in the window: (desired, base, first decision) per region.

    desired = the highest `desired` (> current) per region; base = the first such decision's
    `current` (the replicas already up); only `region` when given."""
    desired: dict[str, int] = {}
    base: dict[str, int] = {}
    first_decision: dict[str, float] = {}
    for e in window:
        if e.kind != "scale.decision":
            continue
        name = e.detail.get("region")
        current, want = _num(e.detail.get("current")), _num(e.detail.get("desired"))
        if not isinstance(name, str) or current is None or want is None or want <= current:
            continue
        if region is not None and name != region:
            continue
        base.setdefault(name, int(current))
        first_decision.setdefault(name, e.t_wall)
        desired[name] = max(desired.get(name, 0), int(want))
    return desired, base, first_decision


def _ready_at(
    window: Sequence[Event], desired: dict[str, int], base: dict[str, int], since: dict[str, float]
) -> float | None:
    """When `base` plus the distinct replicas reporting `replica.ready` (after the region's
    first scale-up decision) reach `desired` in every region; None if never."""
    seen: dict[str, set[str]] = {r: set() for r in desired}
    for e in window:
        name = e.detail.get("region")
        if e.kind != "replica.ready" or name not in desired or e.t_wall < since[str(name)]:
            continue
        seen[str(name)].add(str(e.detail.get("replica")))
        if all(base[r] + len(seen[r]) >= desired[r] for r in desired):
            return e.t_wall
    return None


def scale_for_step(
    events: Sequence[Event],
    series: Series,
    *,
    step_t_wall: float,
    p95_target_ms: float,
    sustained_s: float,
    stop: float = math.inf,
    region: str | None = None,
) -> ScaleStep:
    """Scale time of one load step at `step_t_wall` (window up to `stop`), every region or one.

    Value = max(desired replicas ready, p95 back under target) - step. Without a scale-up
    decision, ready counts from the step (note says so). Never ready or never back: no value,
    a lower bound and a note (inconclusive, never a pass)."""
    window = [e for e in events if step_t_wall <= e.t_wall < stop]
    out = ScaleStep(t_wall=step_t_wall)
    out.desired, base, first_decision = _desired(window, region)
    ready_at = _ready_at(window, out.desired, base, first_decision) if out.desired else step_t_wall
    out.replicas_ready_wall = ready_at
    last_t = series.t[-1] + 1 if series.t else step_t_wall
    if ready_at is None:
        out.lower_bound_s = max(0.0, min(stop, last_t) - step_t_wall)
        out.note = "desired replicas never all reported ready"
        return out
    back = _p95_back(series, ready_at, p95_target_ms, sustained_s)
    if back is None or back >= stop:
        # a sustained run opening before (end of data - window) would have been found
        seen_until = min(stop, last_t) - math.ceil(sustained_s)
        out.lower_bound_s = max(0.0, ready_at - step_t_wall, seen_until - step_t_wall)
        out.note = (
            f"p95 did not stay under {p95_target_ms:g} ms for {sustained_s:g} s after the step"
        )
        return out
    out.p95_ok_wall = back
    out.scale_time_s = max(ready_at, back) - step_t_wall
    if not out.desired:
        out.note = "no scale-up decision after this step"
    return out


def measure_scale(
    events: Sequence[Event], series: Series, p95_target_ms: float, sustained_s: float
) -> list[ScaleStep]:
    """One ScaleStep per `load.step` event (its window ends at the next step)."""
    steps = [e for e in events if e.kind == "load.step"]
    results = []
    for i, step in enumerate(steps):
        stop = steps[i + 1].t_wall if i + 1 < len(steps) else math.inf
        out = scale_for_step(
            events, series, step_t_wall=step.t_wall, p95_target_ms=p95_target_ms,
            sustained_s=sustained_s, stop=stop,
        )  # fmt: skip
        users = _num(step.detail.get("users"))
        out.users = int(users) if users is not None else None
        out.rate = _num(step.detail.get("rate"))
        results.append(out)
    return results


def replicas_timeline(events: Sequence[Event]) -> dict[str, list[tuple[float, int]]]:
    """Ready replicas per region as step points (t_wall, count), for the plot.

    Replicas that were up before any event are inferred from a scale.decision's
    `current` (an offset), so the plot starts from the real count, not zero.
    """
    ready: dict[str, set[str]] = {}
    offset: dict[str, int] = {}
    points: dict[str, list[tuple[float, int]]] = {}

    def mark(region: str, t: float) -> None:
        count = len(ready.get(region, set())) + offset.get(region, 0)
        points.setdefault(region, []).append((t, count))

    for e in events:
        region = e.detail.get("region")
        if e.kind == "replica.ready" and isinstance(region, str):
            ready.setdefault(region, set()).add(str(e.detail.get("replica")))
            mark(region, e.t_wall)
        elif e.kind == "scale.decision" and isinstance(region, str):
            current = _num(e.detail.get("current"))
            known = len(ready.get(region, set())) + offset.get(region, 0)
            if current is not None and known < current:
                offset[region] = offset.get(region, 0) + int(current) - known
                mark(region, e.t_wall)
        elif e.kind == "replica.stopped" and isinstance(region, str):
            ready.setdefault(region, set()).discard(str(e.detail.get("replica")))
            mark(region, e.t_wall)
        elif e.kind == "fault.injected" and str(e.detail.get("target", "")).startswith("region:"):
            lost = str(e.detail["target"]).split(":", 1)[1]
            ready[lost] = set()
            offset[lost] = 0
            mark(lost, e.t_wall)
    return points


# -- one region's figures for `gameday capacity` (the same counting as measure_scale) ---------


@dataclass(frozen=True)
class ScaleTime:
    scale_time_s: float | None
    reason: str
    replicas_from: int | None = None
    replicas_to: int | None = None


def scale_time(
    events: Sequence[Event],
    p95_ms: Sequence[tuple[float, float | None]],
    *,
    step_t_wall: float,
    region: str,
    p95_target_ms: float = 100.0,
    sustain_s: float = 5.0,
) -> ScaleTime:
    """Scale time of one region for a step; `p95_ms` is (whole wall second, p95 or None).

    `scale_for_step` with the region's decisions only, the window open to the end of the data;
    no scale-up or no recovery is None with the reason (inconclusive, never a pass)."""
    if not p95_ms:
        return ScaleTime(None, "no latency figures")
    pairs = sorted((int(t), v) for t, v in p95_ms)
    series = Series(t=[t for t, _ in pairs], p95_ms=[v for _, v in pairs])
    step = scale_for_step(
        events, series, step_t_wall=step_t_wall, p95_target_ms=p95_target_ms,
        sustained_s=sustain_s, region=region,
    )  # fmt: skip
    if region not in step.desired:
        before = [e for e in events if e.kind == "scale.decision" and e.t_wall < step_t_wall]
        count = _num(before[-1].detail.get("desired")) if before else None
        start = int(count) if count is not None else None
        return ScaleTime(None, "no scale-up after the load step", start, start)
    start, to = _first_current(events, step_t_wall, region), step.desired[region]
    if step.scale_time_s is None:
        return ScaleTime(None, step.note, start, None)
    return ScaleTime(step.scale_time_s, "replicas ready and p95 under target", start, to)


def _first_current(events: Sequence[Event], step_t_wall: float, region: str) -> int | None:
    for e in events:
        if e.kind == "scale.decision" and e.t_wall >= step_t_wall:
            n = _num(e.detail.get("current"))
            if e.detail.get("region") == region and n is not None:
                return int(n)
    return None


@dataclass(frozen=True)
class ReplicaPoint:
    t_wall: float
    requested: int
    ready: int


def replica_timeline(
    events: Iterable[Event], region: str, *, initial: int | None = None
) -> list[ReplicaPoint]:
    """Requested and ready replicas after each autoscaler event of the region (capacity plot).

    The count before the first decision is `initial` (default: that decision's `current`,
    assumed all ready)."""
    mine = sorted((e for e in events if e.detail.get("region") == region), key=lambda e: e.t_wall)
    requested = ready = initial
    points: list[ReplicaPoint] = []
    for e in mine:
        if e.kind == "scale.decision":
            if requested is None:
                requested = ready = int(e.detail["current"])
                points.append(ReplicaPoint(e.t_wall, requested, ready))
            requested = int(e.detail["desired"])
        elif e.kind == "replica.ready" and ready is not None:
            ready += 1
        elif e.kind == "replica.stopped" and ready is not None:
            ready = max(0, ready - 1)
        else:
            continue
        if requested is not None and ready is not None:
            points.append(ReplicaPoint(e.t_wall, requested, ready))
    return points


def startup_times_s(events: Iterable[Event]) -> list[float]:
    """Start-up time of each replica: replica.started -> replica.ready (same region, replica)."""
    started: dict[tuple[str, str], float] = {}
    out: list[float] = []
    for e in sorted(events, key=lambda e: e.t_mono):
        key = (str(e.detail.get("region")), str(e.detail.get("replica")))
        if e.kind == "replica.started":
            started[key] = e.t_mono
        elif e.kind == "replica.ready" and key in started:
            out.append(e.t_mono - started.pop(key))
    return out


def events_from_records(records: Iterable[Mapping[str, Any]]) -> list[Event]:
    """Events as an EventLog keeps them in memory (`recorded` dicts) -> `Event`s, by t_mono."""
    out = [
        Event(
            t_wall=float(r["t_wall"]),
            t_mono=float(r["t_mono"]),
            kind=str(r["kind"]),
            source=str(r.get("source", "")),
            detail=dict(r.get("detail") or {}),
        )
        for r in records
    ]
    return sorted(out, key=lambda e: e.t_mono)

"""Scale time and replicas per region over time, from events and the per-second p95.

Scale time (DESIGN.md): from a `load.step` to the moment the desired replicas
are ready and p95 is back under target. Desired = the highest `scale.decision`
desired per region before the next step; ready = the decision's `current` plus
distinct replicas reporting `replica.ready` since. p95 is "back" at the first
second from which it stays under target for a sustained window. Limits: replica
counts come from events only (an autoscaler that does not report cannot be seen);
scale-down needs `replica.stopped` events to show in the replicas plot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def measure_scale(
    events: Sequence[Event], series: Series, p95_target_ms: float, sustained_s: float
) -> list[ScaleStep]:
    """One ScaleStep per `load.step` event."""
    steps = [e for e in events if e.kind == "load.step"]
    results = []
    for i, step in enumerate(steps):
        stop = steps[i + 1].t_wall if i + 1 < len(steps) else math.inf
        window = [e for e in events if step.t_wall <= e.t_wall < stop]
        users = _num(step.detail.get("users"))
        out = ScaleStep(
            t_wall=step.t_wall,
            users=int(users) if users is not None else None,
            rate=_num(step.detail.get("rate")),
        )
        base: dict[str, int] = {}
        first_decision: dict[str, float] = {}
        for e in window:
            if e.kind != "scale.decision":
                continue
            region = e.detail.get("region")
            current, desired = _num(e.detail.get("current")), _num(e.detail.get("desired"))
            if (
                not isinstance(region, str)
                or current is None
                or desired is None
                or desired <= current
            ):
                continue
            base.setdefault(region, int(current))
            first_decision.setdefault(region, e.t_wall)
            out.desired[region] = max(out.desired.get(region, 0), int(desired))
        ready_at: float | None = step.t_wall
        if out.desired:
            seen: dict[str, set[str]] = {r: set() for r in out.desired}
            ready_at = None
            for e in window:
                region = e.detail.get("region")
                if (
                    e.kind != "replica.ready"
                    or region not in out.desired
                    or e.t_wall < first_decision[region]
                ):
                    continue
                seen[region].add(str(e.detail.get("replica")))
                if all(base[r] + len(seen[r]) >= out.desired[r] for r in out.desired):
                    ready_at = e.t_wall
                    break
        out.replicas_ready_wall = ready_at
        last_t = series.t[-1] + 1 if series.t else step.t_wall
        if ready_at is None:
            out.lower_bound_s = max(0.0, min(stop, last_t) - step.t_wall)
            out.note = "desired replicas never all reported ready"
            results.append(out)
            continue
        back = _p95_back(series, ready_at, p95_target_ms, sustained_s)
        if back is None or back >= stop:
            # a sustained run opening before (end of data - window) would have been found
            seen_until = min(stop, last_t) - math.ceil(sustained_s)
            out.lower_bound_s = max(0.0, ready_at - step.t_wall, seen_until - step.t_wall)
            out.note = (
                f"p95 did not stay under {p95_target_ms:g} ms for {sustained_s:g} s after the step"
            )
            results.append(out)
            continue
        out.p95_ok_wall = back
        out.scale_time_s = max(ready_at, back) - step.t_wall
        if not out.desired:
            out.note = "no scale-up decision after this step"
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

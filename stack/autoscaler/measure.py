"""Scale figures from a run folder's events (docs/run-folder.md): replica timeline, start-up
times, and scale time. Pure functions over parsed events, plus a tolerant reader.

Scale time (DESIGN.md): from the load step to the moment the desired replicas are ready and p95
is back under target. Here: the first second at or after the step where the ready count has
reached the last requested count *and* p95 stays under target for `sustain_s` seconds, provided
the autoscaler scaled up after the step. A second without a p95 figure is not under target.
No scale-up, or never recovered: None with the reason (inconclusive, never a pass).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """events.jsonl as dicts; a torn last line (a crash mid-write) is skipped."""
    out = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and "kind" in event:
            out.append(event)
    return out


@dataclass(frozen=True)
class ReplicaPoint:
    t_wall: float
    requested: int
    ready: int


def replica_timeline(
    events: Iterable[Mapping[str, Any]], region: str, *, initial: int | None = None
) -> list[ReplicaPoint]:
    """Requested and ready replicas after each autoscaler event of the region.

    The count before the first decision is `initial` (default: that decision's `current`,
    assumed all ready).
    """
    mine = sorted(
        (e for e in events if (e.get("detail") or {}).get("region") == region),
        key=lambda e: float(e["t_wall"]),
    )
    requested = ready = initial
    points: list[ReplicaPoint] = []
    for e in mine:
        kind, d = e["kind"], e.get("detail") or {}
        if kind == "scale.decision":
            if requested is None:
                requested = ready = int(d["current"])
                points.append(ReplicaPoint(float(e["t_wall"]), requested, ready))
            requested = int(d["desired"])
        elif kind == "replica.ready" and ready is not None:
            ready += 1
        elif kind == "replica.stopped" and ready is not None:
            ready = max(0, ready - 1)
        else:
            continue
        if requested is not None and ready is not None:
            points.append(ReplicaPoint(float(e["t_wall"]), requested, ready))
    return points


def startup_times_s(events: Iterable[Mapping[str, Any]]) -> list[float]:
    """Start-up time of each replica: replica.started -> replica.ready (same region, replica)."""
    started: dict[tuple[str, str], float] = {}
    out: list[float] = []
    for e in sorted(events, key=lambda e: float(e["t_mono"])):
        d = e.get("detail") or {}
        key = (str(d.get("region")), str(d.get("replica")))
        if e["kind"] == "replica.started":
            started[key] = float(e["t_mono"])
        elif e["kind"] == "replica.ready" and key in started:
            out.append(float(e["t_mono"]) - started.pop(key))
    return out


@dataclass(frozen=True)
class ScaleTime:
    scale_time_s: float | None
    reason: str
    replicas_from: int | None = None
    replicas_to: int | None = None


def scale_time(
    events: Iterable[Mapping[str, Any]],
    p95_ms: Sequence[tuple[float, float | None]],
    *,
    step_t_wall: float,
    region: str,
    p95_target_ms: float = 100.0,
    sustain_s: float = 5.0,
) -> ScaleTime:
    """Scale time for one load step; `p95_ms` is (whole wall second, p95 or None) per second."""
    timeline = replica_timeline(events, region)
    ups = [p for p in timeline if p.t_wall >= step_t_wall]
    before = [p for p in timeline if p.t_wall < step_t_wall]
    start_count = before[-1].requested if before else (timeline[0].requested if timeline else None)
    if not ups or max(p.requested for p in ups) <= (start_count or 0):
        return ScaleTime(None, "no scale-up after the load step", start_count, start_count)
    series = {int(t): v for t, v in p95_ms}
    if not series:
        return ScaleTime(None, "no latency figures", start_count, None)

    def counts_at(t: float) -> tuple[int, int] | None:
        last = None
        for p in timeline:
            if p.t_wall <= t + 1:  # anything within this second counts
                last = p
        return None if last is None else (last.requested, last.ready)

    def ok(second: int) -> bool:
        v = series.get(second)
        return v is not None and math.isfinite(v) and v < p95_target_ms

    end = max(series)
    first = int(math.floor(step_t_wall))
    for second in range(first, end + 1):
        counts = counts_at(second)
        if counts is None or counts[1] < counts[0] or counts[0] <= (start_count or 0):
            continue
        window = range(second, second + int(math.ceil(sustain_s)))
        if all(ok(s) for s in window) and window[-1] <= end:
            return ScaleTime(
                max(0.0, second - step_t_wall),
                "replicas ready and p95 under target",
                start_count,
                counts[0],
            )
    return ScaleTime(
        None, "p95 never came back under target with the replicas ready", start_count, None
    )

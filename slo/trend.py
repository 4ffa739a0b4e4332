"""The trend report: per experiment, failover, RTO, lost writes, p95 and verdicts over past runs.

A regression is flagged when the latest run is worse than the median of the earlier
ones by more than 20 % and an absolute margin (1 s for failover/RTO, 20 ms for p95),
when it lost more writes than any earlier run, or when its verdict fell from pass.
`RunRow` is one recorded run (the history store, gameday/trend/store.py, keeps them);
`trend_html` renders the page, or the section the suite summary includes.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slo import pages, svg

METRICS: tuple[tuple[str, str, float], ...] = (
    ("failover_s", "failover (s)", 1.0),
    ("rto_s", "RTO (s)", 1.0),
)
METRICS += (("lost", "lost writes", 0.0), ("p95_ms", "p95 (ms)", 20.0))
VERDICT_Y = {"pass": 0, "inconclusive": 1, "fail": 2}
PLOT_W, PLOT_H = 600.0, 80.0


@dataclass(frozen=True)
class RunRow:
    run_dir: str
    kind: str  # "run" or "suite"
    experiment: str
    started_wall: float | None
    verdict: str | None
    failover_s: float | None
    rto_s: float | None
    lost: int | None
    p95_ms: float | None
    failing: str | None


@dataclass
class TrendSeries:
    key: str
    title: str
    values: list[float | None]
    points: str  # SVG polyline points
    regression: str | None

    @property
    def dots(self) -> list[tuple[str, str]]:
        return [tuple(p.split(",", 1)) for p in self.points.split()]  # type: ignore[misc]


def regression(key: str, margin: float, values: list[float | None]) -> str | None:
    known = [v for v in values[:-1] if v is not None]
    last = values[-1] if values else None
    if last is None or not known:
        return None
    if key == "lost":
        worst = max(known)
        return f"lost {last:.0f} writes, earlier at most {worst:.0f}" if last > worst else None
    base = statistics.median(known)
    if last > base * 1.2 and last - base > margin:
        return f"{last:.1f} against a median of {base:.1f} over {len(known)} earlier runs"
    return None


def _points(values: list[float | None]) -> str:
    """Polyline points over one night per step; a missing value is skipped, not drawn as 0."""
    x = svg.Scale(0.0, float(max(len(values) - 1, 1)), 0.0, PLOT_W)
    top = max((v for v in values if v is not None), default=1.0) or 1.0
    y = svg.Scale(0.0, top, PLOT_H - 4, 4)
    return " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values) if v is not None)


def experiment_series(rows: Sequence[RunRow]) -> list[TrendSeries]:
    out = []
    for key, title, margin in METRICS:
        values: list[float | None] = [getattr(r, key) for r in rows]
        out.append(
            TrendSeries(key, title, values, _points(values), regression(key, margin, values))
        )
    verdicts: list[float | None] = [
        float(VERDICT_Y[r.verdict]) if r.verdict in VERDICT_Y else None for r in rows
    ]
    fell = len(rows) > 1 and rows[-1].verdict == "fail" and rows[-2].verdict == "pass"
    out.append(
        TrendSeries(
            "verdict",
            "verdict (0 pass, 1 inconclusive, 2 fail)",
            verdicts,
            _points(verdicts),
            "verdict fell from pass to fail" if fell else None,
        )
    )
    return out


def by_experiment(rows: Sequence[RunRow]) -> dict[str, list[RunRow]]:
    groups: dict[str, list[RunRow]] = defaultdict(list)
    for r in rows:
        if r.kind == "run":
            groups[r.experiment].append(r)
    return dict(sorted(groups.items()))


def when(t: float | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M")


def trend_context(rows: Sequence[RunRow], history: str = "") -> dict[str, Any]:
    """What the trend section draws: per experiment its runs and series, and the regressions."""
    groups = {name: (rs, experiment_series(rs)) for name, rs in by_experiment(rows).items()}
    regressions = [
        (name, s.title, s.regression)
        for name, (_, series) in groups.items()
        for s in series
        if s.regression
    ]
    return {"groups": groups, "regressions": regressions, "when": when, "history": history}


def trend_html(rows: Sequence[RunRow], section_only: bool = False, history: str = "") -> str:
    """The trend page (or only its section); `history` names the store (password redacted)."""
    name = "_trend_section.html.j2" if section_only else "trend.html.j2"
    return pages.render(name, title="gameday trend", **trend_context(rows, history))

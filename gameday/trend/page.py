"""The trend page: per experiment, failover, RTO, lost writes, p95 and verdicts over past runs.

A regression is flagged when the latest run is worse than the median of the earlier
ones by more than 20 % and an absolute margin (1 s for failover/RTO, 20 ms for p95),
when it lost more writes than any earlier run, or when its verdict fell from pass.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from gameday.trend.store import RunRow

METRICS: tuple[tuple[str, str, float], ...] = (
    ("failover_s", "failover (s)", 1.0),
    ("rto_s", "RTO (s)", 1.0),
)
METRICS += (("lost", "lost writes", 0.0), ("p95_ms", "p95 (ms)", 20.0))
VERDICT_Y = {"pass": 0, "inconclusive": 1, "fail": 2}
_ENV = Environment(
    loader=PackageLoader("gameday.trend", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


@dataclass
class Series:
    key: str
    title: str
    values: list[float | None]
    points: str  # SVG polyline points
    regression: str | None


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


def _points(values: list[float | None], width: float = 600.0, height: float = 80.0) -> str:
    known = [v for v in values if v is not None]
    top = max(known, default=1.0) or 1.0
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - (v / top) * (height - 8) - 4:.1f}"
        for i, v in enumerate(values)
        if v is not None
    )


def experiment_series(rows: list[RunRow]) -> list[Series]:
    out = []
    for key, title, margin in METRICS:
        values: list[float | None] = [getattr(r, key) for r in rows]
        out.append(Series(key, title, values, _points(values), regression(key, margin, values)))
    verdicts: list[float | None] = [
        float(VERDICT_Y[r.verdict]) if r.verdict in VERDICT_Y else None for r in rows
    ]
    fell = len(rows) > 1 and rows[-1].verdict == "fail" and rows[-2].verdict == "pass"
    out.append(
        Series(
            "verdict",
            "verdict (0 pass, 1 inconclusive, 2 fail)",
            verdicts,
            _points(verdicts),
            "verdict fell from pass to fail" if fell else None,
        )
    )
    return out


def by_experiment(rows: list[RunRow]) -> dict[str, list[RunRow]]:
    groups: dict[str, list[RunRow]] = defaultdict(list)
    for r in rows:
        if r.kind == "run":
            groups[r.experiment].append(r)
    return dict(sorted(groups.items()))


def _when(t: float | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M")


def trend_html(rows: list[RunRow], section_only: bool = False) -> str:
    groups = {name: (rs, experiment_series(rs)) for name, rs in by_experiment(rows).items()}
    regressions = [
        (name, s.title, s.regression)
        for name, (_, series) in groups.items()
        for s in series
        if s.regression
    ]
    return _ENV.get_template("trend.html.j2").render(
        groups=groups, regressions=regressions, when=_when, section_only=section_only
    )


def write_trend(rows: list[RunRow], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(trend_html(rows), encoding="utf-8")
    tmp.replace(out)
    return out

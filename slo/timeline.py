"""The run report's timeline figure: one time axis (seconds after the fault) shared by three
aligned panels: the failover steps (fault, detection, traffic switch, promotion, client-visible
failover, recovery), p95 latency per second beneath them, and errors per second beneath that.

`timeline_figure(results, series)` returns the geometry; templates/run.html.j2 draws it as one
inline SVG (`#timeline`). Without a fault the axis is seconds since the run's start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from slo import svg
from slo.results import Results, Series

WIDTH, LEFT, RIGHT = 960.0, 170.0, 20.0
LANE_H, LAT_H, ERR_H, GAP, AXIS_H, LABEL_H = 22.0, 130.0, 90.0, 28.0, 34.0, 12.0
COLORS = ("#d62728", "#ff7f0e", "#1f77b4", "#9467bd", "#2ca02c", "#8c564b", "#17becf")


@dataclass(frozen=True)
class Lane:
    name: str
    x: float
    w: float
    y: float
    color: str
    label: str
    source: str


@dataclass(frozen=True)
class Marker:
    name: str
    x: float
    label: str
    color: str
    label_y: float = 0.0


@dataclass
class Panel:
    key: str  # "latency" or "errors"
    title: str
    top: float
    height: float
    lines: list[str] = field(default_factory=list)  # polyline point strings
    area: str = ""  # polygon points (errors)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    target: tuple[float, str] | None = None  # a horizontal line (p95 target)
    empty: str = ""  # why nothing is drawn


@dataclass
class TimelineFigure:
    width: float
    height: float
    left: float
    right: float
    x_label: str
    x_ticks: list[tuple[float, str]]
    lanes: list[Lane]
    markers: list[Marker]
    shade: tuple[float, float] | None  # the fault window, x and width
    panels: list[Panel]
    lanes_bottom: float
    top: float


def _origin(results: Results, series: Series) -> tuple[float, str] | None:
    m = results.measurements
    if m.fault is not None:
        return m.fault.t_wall, "seconds after the fault"
    start = results.run.started_wall
    if start is None and series.t:
        start = float(series.t[0])
    return (start, "seconds since the start") if start is not None else None


def _domain(results: Results, series: Series, origin: float) -> tuple[float, float]:
    m = results.measurements
    points = [0.0]
    points += [t - origin for t in series.t[:1]] + [t + 1 - origin for t in series.t[-1:]]
    points += [s.start_s for s in m.failover_timeline] + [s.end_s for s in m.failover_timeline]
    for measure in (m.failover, m.rto):
        if measure is not None and measure.value_s is not None:
            points.append(measure.value_s)
    if m.fault is not None and m.fault.rolled_back_wall is not None:
        points.append(m.fault.rolled_back_wall - origin)
    lo, hi = min(points), max(points)
    return lo, max(hi, lo + 1.0)


def _lanes(results: Results, x: svg.Scale, top: float) -> list[Lane]:
    lanes = []
    for i, s in enumerate(results.measurements.failover_timeline):
        left, right = x(s.start_s), x(s.end_s)
        lanes.append(
            Lane(
                name=s.name,
                x=left,
                w=max(right - left, 2.0),
                y=top + i * LANE_H,
                color=COLORS[i % len(COLORS)],
                label=f"{s.start_s:+.1f} .. {s.end_s:+.1f} s",
                source=s.source,
            )
        )
    return lanes


def _markers(results: Results, x: svg.Scale, origin: float) -> list[Marker]:
    m = results.measurements
    out = []
    if m.fault is not None:
        out.append(Marker("fault", x(0.0), "fault injected", "#b00020"))
        if m.fault.rolled_back_wall is not None:
            t = m.fault.rolled_back_wall - origin
            out.append(Marker("rollback", x(t), f"rolled back {t:+.1f} s", "#5b6675"))
    for key, name, measure in (
        ("failover", "failover", m.failover),
        ("rto", "recovered (RTO)", m.rto),
    ):
        if measure is not None and measure.value_s is not None:
            out.append(
                Marker(key, x(measure.value_s), f"{name} {measure.value_s:.1f} s", "#1a7f37")
            )
    return [
        Marker(m.name, m.x, m.label, m.color, label_y=LABEL_H * (i + 1)) for i, m in enumerate(out)
    ]


def _latency(
    series: Series, xs: list[float], x: svg.Scale, top: float, target: float | None
) -> Panel:
    panel = Panel("latency", "p95 latency per second (log)", top, LAT_H)
    known = [v for v in series.p95_ms if v is not None and v > 0]
    if not known:
        panel.empty = "no requests recorded: latency not measured"
        return panel
    lo, hi = svg.decades(min(known), max([*known, *([target] if target else [])]))
    y = svg.Scale(lo, hi, top + LAT_H, top, log=True)
    panel.lines = svg.segments(xs, [v if v and v > 0 else None for v in series.p95_ms], x, y)
    decade = lo
    while decade <= hi * 1.0001:
        panel.y_ticks.append((y(decade), svg.fmt_ms(decade)))
        decade *= 10
    if target is not None:
        panel.target = (y(target), f"p95 target {svg.fmt_ms(target)}")
    return panel


def _errors(series: Series, xs: list[float], x: svg.Scale, top: float) -> Panel:
    panel = Panel("errors", "errors per second (5xx, timeouts, refused)", top, ERR_H)
    if not xs:
        panel.empty = "no requests recorded: errors not measured"
        return panel
    step = max(svg.nice_step(float(max(series.errors, default=0)), 3), 1.0)  # whole requests
    hi = max(math.ceil(max(series.errors, default=0) / step), 1) * step
    y = svg.Scale(0.0, hi, top + ERR_H, top)
    panel.area = svg.steps(xs, [float(e) for e in series.errors], x, y, 1.0)
    panel.lines = [
        " ".join(f"{x(t + 0.5)},{y(float(e))}" for t, e in zip(xs, series.errors, strict=True))
    ]
    panel.y_ticks = [(y(v), f"{v:g}") for v in svg.ticks(0.0, hi, 3) if v == int(v)]
    return panel


def timeline_figure(
    results: Results, series: Series, p95_target_ms: float | None = None
) -> TimelineFigure | None:
    """The figure's geometry; None when there is neither a fault timeline nor traffic."""
    if not results.measurements.failover_timeline and not series.t:
        return None
    found = _origin(results, series)
    if found is None:
        return None
    origin, x_label = found
    lo, hi = _domain(results, series, origin)
    x = svg.Scale(lo, hi, LEFT, WIDTH - RIGHT)
    markers = _markers(results, x, origin)
    top = LABEL_H * (len(markers) + 1)
    lanes = _lanes(results, x, top)
    lanes_bottom = top + max(len(lanes), 1) * LANE_H
    xs = [t - origin for t in series.t]
    lat = _latency(series, xs, x, lanes_bottom + GAP, p95_target_ms)
    err = _errors(series, xs, x, lat.top + LAT_H + GAP)
    bottom = err.top + ERR_H
    fault = results.measurements.fault
    shade = None
    if fault is not None:
        end = fault.rolled_back_wall - origin if fault.rolled_back_wall is not None else hi
        shade = (x(0.0), max(x(end) - x(0.0), 1.0))
    return TimelineFigure(
        width=WIDTH,
        height=bottom + AXIS_H,
        left=LEFT,
        right=WIDTH - RIGHT,
        x_label=x_label,
        x_ticks=[(x(t), svg.fmt_seconds(t)) for t in svg.ticks(lo, hi, 10)],
        lanes=lanes,
        markers=markers,
        top=top,
        shade=shade,
        panels=[lat, err],
        lanes_bottom=lanes_bottom,
    )

"""Plot geometry for the SVG figures the report templates draw: scales, ticks, point lists.

Pure numbers in, numbers and SVG `points` strings out; the templates (slo/templates/) draw
them, escaped like any other value. Nothing here builds markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Maps the domain [lo, hi] onto the pixel range [start, end] (end < start flips it)."""

    lo: float
    hi: float
    start: float
    end: float
    log: bool = False

    def __call__(self, v: float) -> float:
        lo, hi, v = self.lo, self.hi, v
        if self.log:
            lo, hi, v = math.log10(lo), math.log10(hi), math.log10(max(v, self.lo))
        span = hi - lo or 1.0
        return round(self.start + (v - lo) / span * (self.end - self.start), 1)


def nice_step(span: float, count: int = 6) -> float:
    """A 1/2/5 x 10^k step giving about `count` ticks over `span`."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    return float(next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw))


def ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round values in [lo, hi], about `count` of them."""
    step = nice_step(hi - lo, count)
    first = math.ceil(lo / step) * step
    n = int(math.floor((hi - first) / step + 1e-9)) + 1
    return [round(first + i * step, 10) for i in range(max(n, 0))]


def decades(lo: float, hi: float) -> tuple[float, float]:
    """The powers of ten around [lo, hi] (a log axis' bounds); lo > 0."""
    return 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(max(hi, lo * 10)))


def segments(xs: Sequence[float], ys: Sequence[float | None], x: Scale, y: Scale) -> list[str]:
    """Polyline `points` strings, one per run of known values: a gap is never drawn as 0."""
    out: list[str] = []
    cur: list[str] = []
    for xv, yv in zip(xs, ys, strict=True):
        if yv is None or not math.isfinite(yv):
            if cur:
                out.append(" ".join(cur))
            cur = []
            continue
        cur.append(f"{x(xv)},{y(yv)}")
    if cur:
        out.append(" ".join(cur))
    return out


def steps(xs: Sequence[float], ys: Sequence[float], x: Scale, y: Scale, width: float) -> str:
    """A closed step area (each value held for `width` domain units), for a polygon."""
    if not xs:
        return ""
    base = y(y.lo)
    pts = [f"{x(xs[0])},{base}"]
    for xv, yv in zip(xs, ys, strict=True):
        pts += [f"{x(xv)},{y(yv)}", f"{x(xv + width)},{y(yv)}"]
    pts.append(f"{x(xs[-1] + width)},{base}")
    return " ".join(pts)


def fmt_seconds(v: float) -> str:
    return f"{v:+g} s" if v else "0 s"


def fmt_ms(v: float) -> str:
    return f"{v / 1000:g} s" if v >= 1000 else f"{v:g} ms"


@dataclass(frozen=True)
class Dot:
    x: float
    label: str
    bad: bool  # the trial or run failed
    href: str | None


@dataclass(frozen=True)
class Strip:
    """One distribution on a horizontal axis: a dot per value, the median and the max."""

    dots: list[Dot]
    median_x: float | None
    max_x: float | None
    zero_x: float


def value_scale(values: Sequence[float | None], start: float, end: float) -> Scale:
    """0 .. a round value above the largest known value (1 when none is above 0)."""
    top = max((v for v in values if v is not None and math.isfinite(v)), default=0.0)
    step = nice_step(top or 1.0, 4)
    return Scale(0.0, max(math.ceil(top / step) * step, step), start, end)


def strip(
    values: Sequence[float | None],
    x: Scale,
    labels: Sequence[str],
    bad: Sequence[bool],
    hrefs: Sequence[str | None],
    median: float | None,
    most: float | None,
) -> Strip:
    dots = [
        Dot(x(v), label, b, href)
        for v, label, b, href in zip(values, labels, bad, hrefs, strict=True)
        if v is not None and math.isfinite(v)
    ]
    return Strip(
        dots=dots,
        median_x=None if median is None else x(median),
        max_x=None if most is None else x(most),
        zero_x=x(0.0),
    )

"""`gameday compare BASE NEW`: the key figures side by side, regressions flagged.

A regression is a figure that got worse by more than its tolerance (absolute
seconds / ratio points, or relative %) or an SLO that passed in BASE and does
not in NEW. A figure missing on one side is shown, never flagged. Tolerances
default to: failover/RTO +2 s, RPO +10 s, scale time +15 s, lost writes +0,
p95/p99 +20 %, throughput -10 %, availability -0.05 points, error rate +0.5 points.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from gameday.errors import InputError
from slo.results import Results


@dataclass(frozen=True)
class Tolerance:
    value: float
    relative: bool

    def __str__(self) -> str:
        return f"{self.value * 100:g} %" if self.relative else f"{self.value:g}"


DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    "failover": Tolerance(2.0, False),
    "rto": Tolerance(2.0, False),
    "rpo": Tolerance(10.0, False),
    "scale_time": Tolerance(15.0, False),
    "lost_writes": Tolerance(0.0, False),
    "p95": Tolerance(0.20, True),
    "p99": Tolerance(0.20, True),
    "throughput": Tolerance(0.10, True),
    "availability": Tolerance(0.0005, False),
    "error_rate": Tolerance(0.005, False),
}


def parse_tolerance(text: str) -> tuple[str, Tolerance]:
    """`p95=25%`, `failover=3s`, `availability=0.1%` (percent of a ratio is points)."""
    match = re.fullmatch(r"\s*([a-z_0-9]+)\s*=\s*([0-9.]+)\s*(%|s|ms)?\s*", text)
    if not match or match.group(1) not in DEFAULT_TOLERANCES:
        raise InputError(
            f"--tolerance {text!r}: expected KEY=VALUE with KEY in {', '.join(DEFAULT_TOLERANCES)}"
        )
    key, number, unit = match.group(1), float(match.group(2)), match.group(3)
    if key in ("availability", "error_rate"):
        return key, Tolerance(number / 100 if unit == "%" else number, False)
    if unit == "%":
        return key, Tolerance(number / 100, True)
    return key, Tolerance(number / 1000 if unit == "ms" else number, False)


@dataclass
class Row:
    figure: str
    key: str
    base: float | None
    new: float | None
    unit: str
    higher_is_worse: bool
    regression: bool = False
    note: str = ""


def _get(fn: Callable[[Results], float | None], r: Results) -> float | None:
    try:
        return fn(r)
    except (AttributeError, TypeError, KeyError, StopIteration):
        return None


def _phase_stat(phase: str, stat: str) -> Callable[[Results], float | None]:
    return lambda r: getattr(
        next(p for p in r.measurements.phases if p.name == phase).all, f"{stat}_ms"
    )


def _figures(
    base: Results, new: Results
) -> list[tuple[str, str, Callable[[Results], float | None], str, bool]]:
    figs: list[tuple[str, str, Callable[[Results], float | None], str, bool]] = [
        ("failover time", "failover", lambda r: r.measurements.failover.value_s, "s", True),  # type: ignore[union-attr]
        ("RTO", "rto", lambda r: r.measurements.rto.value_s, "s", True),  # type: ignore[union-attr]
        ("RPO", "rpo", lambda r: r.measurements.data.rpo_s, "s", True),  # type: ignore[union-attr]
        ("lost writes", "lost_writes", lambda r: r.measurements.data.lost, "", True),  # type: ignore[union-attr]
        ("scale time", "scale_time", lambda r: r.slo("scale_time").value, "s", True),
        ("throughput", "throughput", lambda r: r.measurements.traffic.peak_rps, "req/s", False),  # type: ignore[union-attr]
        (
            "availability",
            "availability",
            lambda r: r.measurements.traffic.availability,  # type: ignore[union-attr]
            "ratio",
            False,
        ),  # type: ignore[union-attr]
        ("error rate", "error_rate", lambda r: r.measurements.traffic.error_rate, "ratio", True),  # type: ignore[union-attr]
    ]
    phases = [p.name for p in base.measurements.phases] + [
        p.name
        for p in new.measurements.phases
        if p.name not in {q.name for q in base.measurements.phases}
    ]
    for phase in phases:
        for stat in ("p95", "p99"):
            figs.append((f"{stat} {phase}", stat, _phase_stat(phase, stat), "ms", True))
    return figs


def compare(
    base: Results, new: Results, tolerances: dict[str, Tolerance] | None = None
) -> list[Row]:
    tol = {**DEFAULT_TOLERANCES, **(tolerances or {})}
    rows = []
    for figure, key, fn, unit, worse_up in _figures(base, new):
        b, n = _get(fn, base), _get(fn, new)
        row = Row(figure, key, b, n, unit, worse_up)
        if b is not None and n is not None:
            t = tol[key]
            allowed = abs(b) * t.value if t.relative else t.value
            delta = (n - b) if worse_up else (b - n)
            if delta > allowed + 1e-12:
                row.regression = True
                row.note = f"worse by {_fmt(abs(n - b), unit)} (tolerance {t})"
        elif b is not None or n is not None:
            row.note = "only in one run"
        rows.append(row)
    base_status = {s.id: s.status for s in base.slos}
    for s in new.slos:
        before = base_status.get(s.id)
        if before == "pass" and s.status in ("fail", "inconclusive"):
            rows.append(
                Row(f"SLO {s.id}", s.id, None, None, "", True, True, f"was pass, now {s.status}")
            )
    return rows


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "ratio":
        return f"{v * 100:.3f} %"
    if unit == "":
        return f"{v:g}"
    return f"{v:.2f} {unit}" if unit in ("s", "ms") else f"{v:.0f} {unit}"


def table(rows: list[Row], base_name: str, new_name: str) -> str:
    lines = [f"| figure | {base_name} | {new_name} | regression |", "|---|---|---|---|"]
    for r in rows:
        flag = f"**REGRESSION**: {r.note}" if r.regression else r.note
        lines.append(f"| {r.figure} | {_fmt(r.base, r.unit)} | {_fmt(r.new, r.unit)} | {flag} |")
    return "\n".join(lines) + "\n"

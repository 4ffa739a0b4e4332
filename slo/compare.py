"""`gameday compare BASE NEW`: the key figures side by side, regressions flagged.

A regression is a figure that got worse by more than its tolerance (absolute
seconds / ratio points, or relative %) or an SLO that passed in BASE and does
not in NEW. A figure missing on one side is shown, never flagged. Tolerances
default to: failover/RTO +2 s, RPO +10 s, scale time +15 s, lost writes +0,
p95/p99 +20 %, throughput -10 %, availability -0.05 points, error rate +0.5 points,
error budget burn +0.2 points (about 2.6 s of outage against 99.95 %/30 days).
Availability and error rate are the judged values (their SLO's scope, see
slo.scope); a row notes when the two runs were judged over different scopes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bedrock.errors import InputError
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
    "error_budget": Tolerance(0.002, False),
}
_POINTS = ("availability", "error_rate", "error_budget")  # ratios: % means points


def parse_tolerance(text: str) -> tuple[str, Tolerance]:
    """`p95=25%`, `failover=3s`, `availability=0.1%` (percent of a ratio is points)."""
    match = re.fullmatch(r"\s*([a-z_0-9]+)\s*=\s*([0-9.]+)\s*(%|s|ms)?\s*", text)
    if not match or match.group(1) not in DEFAULT_TOLERANCES:
        raise InputError(
            f"--tolerance {text!r}: expected KEY=VALUE with KEY in {', '.join(DEFAULT_TOLERANCES)}"
        )
    key, number, unit = match.group(1), float(match.group(2)), match.group(3)
    if key in _POINTS:
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


def _judged(slo_id: str) -> Callable[[Results], float | None]:
    """The SLO's judged value (its scope), else the whole-run traffic figure."""

    def get(r: Results) -> float | None:
        value = next((s.value for s in r.slos if s.id == slo_id), None)
        if value is not None:
            return value
        return getattr(r.measurements.traffic, slo_id)  # type: ignore[no-any-return]

    return get


def _scope(r: Results, slo_id: str) -> str:
    s = next((s for s in r.slos if s.id == slo_id), None)
    return str(s.evidence.get("scope_effective", "run")) if s is not None else "run"


def _budget(r: Results) -> float | None:
    used = r.measurements.error_budget.budget_used_pct  # type: ignore[union-attr]
    return used / 100 if used is not None else None


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
        ("availability", "availability", _judged("availability"), "ratio", False),
        ("error rate", "error_rate", _judged("error_rate"), "ratio", True),
        ("error budget burn", "error_budget", _budget, "ratio", True),
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
        if key in ("availability", "error_rate") and _scope(base, key) != _scope(new, key):
            scopes = f"scope {_scope(base, key)} vs {_scope(new, key)}"
            row.note = f"{row.note}; {scopes}" if row.note else scopes
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

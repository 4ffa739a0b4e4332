"""Availability, error rate and error-budget verdicts, each over a stated scope.

Availability and error rate are judged over a *scope* (spec `availability_scope`,
`error_rate_scope`):
- `run`: every request second of the run (what a dashboard over the run shows).
- `steady` (default): only the request seconds wholly outside the fault phase, i.e.
  the baseline and recovery (and cooldown) phases. A region failover has a real,
  expected client-visible outage while the fault is active; 99.95 % is a monthly
  figure, and judging it over a 60 s run containing a 13 s outage fails every
  failover run whatever the stack does. The fault window is judged by failover
  time, RTO and RPO, and its cost by the `error_budget` SLO below. When the run
  had no fault (no fault event, no experiment in run.json), steady = the whole run.
  A second overlapping the fault phase even partly is left out (the histograms
  have 1 s resolution, so its errors could belong to the fault).

The fault phase comes from the `phase` events (every phase named `fault`), else
from `fault.injected` -> `fault.rolled_back` (to the end of the run when never
rolled back), as slo.measure_load.run_phases derives them.

`error_budget` (`budget_burn < 5%`): the share of the period's availability
budget ((1 - availability target) x budget.window_days, 21.6 min for 99.95 %/30
days) used by the run's client-visible outage: the union of the intervals in which
the latest read or write probe had failed (slo.measure_failover.outage_seconds),
over the whole run. Without read/write probes it is inconclusive.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slo.measure_load import LoadAggregate, RunPhase, count_outcomes
from slo.results import ErrorBudget, SloResult, Traffic, Window
from slo.runfolder import Probe
from slo.spec import SloSpec
from slo.thresholds import Threshold
from slo.verdict import judged, missing

BUDGET_PROBE_KINDS = ("read", "write")


@dataclass(frozen=True)
class JudgedScope:
    """Which request seconds a ratio SLO is judged over."""

    requested: str  # run | steady (the spec)
    effective: str  # run | steady (steady without a fault is the whole run)
    judged: str  # human text for the evidence
    excluded: list[tuple[float, float]] = field(default_factory=list)  # fault windows (wall)
    problem: str | None = None  # steady asked but the fault window is unknown


def fault_windows(phases: Sequence[RunPhase]) -> list[tuple[float, float]]:
    return [(p.start_wall, p.end_wall) for p in phases if p.name == "fault"]


def _span(windows: Sequence[tuple[float, float]], origin: float | None) -> str:
    def rel(t: float) -> str:
        if not math.isfinite(t):
            return "end"
        return f"{t - origin:.1f} s" if origin is not None else f"{t:.1f}"

    return ", ".join(f"{rel(a)} .. {rel(b)}" for a, b in windows)


def resolve_scope(
    requested: str,
    fault_expected: bool,
    phases: Sequence[RunPhase],
    run_start: float | None = None,
) -> JudgedScope:
    if requested == "run":
        return JudgedScope("run", "run", "the whole run (scope run)")
    if not fault_expected:
        return JudgedScope("steady", "run", "the whole run (scope steady; the run had no fault)")
    windows = fault_windows(phases)
    if not windows:
        return JudgedScope(
            "steady",
            "steady",
            "",
            problem="an experiment ran but its fault window is unknown "
            "(no 'fault' phase event, no fault.injected event)",
        )
    where = "after the run start" if run_start is not None else "wall"
    return JudgedScope(
        "steady",
        "steady",
        f"the steady phases (scope steady: outside the fault phase "
        f"{_span(windows, run_start)} {where})",
        excluded=windows,
    )


def scoped_traffic(
    second_outcomes: Sequence[tuple[int, dict[str, int]]],
    excluded: Sequence[tuple[float, float]],
) -> tuple[Traffic, int, int]:
    """Counts over the seconds [t, t+1) overlapping no excluded window; (traffic, kept, left out)."""
    total: dict[str, int] = defaultdict(int)
    kept = left_out = 0
    for t, outcomes in second_outcomes:
        if any(t < end and t + 1 > start for start, end in excluded):
            left_out += 1
            continue
        kept += 1
        for outcome, count in outcomes.items():
            total[outcome] += count
    return count_outcomes(dict(total)), kept, left_out


def ratio_results(
    spec: SloSpec,
    agg: LoadAggregate | None,
    fault_expected: bool,
    phases: Sequence[RunPhase],
    run_start: float | None,
) -> list[SloResult]:
    """The availability and error-rate SLOs over their scopes."""
    out = []
    for slo_id, title, requested in (
        ("availability", "availability", spec.availability_scope),
        ("error_rate", "error rate", spec.error_rate_scope),
    ):
        threshold = spec.threshold(slo_id)
        if threshold is None:
            continue
        if agg is None or agg.traffic.requests == 0:
            out.append(missing(slo_id, title, threshold, "no requests/*.jsonl histograms"))
            continue
        scope = resolve_scope(requested, fault_expected, phases, run_start)
        if scope.problem is not None:
            out.append(missing(slo_id, title, threshold, f"scope steady: {scope.problem}"))
            continue
        out.append(_ratio_result(slo_id, title, threshold, agg, scope))
    return out


def _ratio(slo_id: str, t: Traffic) -> float | None:
    return t.availability if slo_id == "availability" else t.error_rate


def _ratio_result(
    slo_id: str, title: str, threshold: Threshold, agg: LoadAggregate, scope: JudgedScope
) -> SloResult:
    """One ratio SLO judged over the request seconds its scope keeps."""
    whole = agg.traffic
    if scope.effective == "run":
        t, kept, left_out = whole, len(agg.second_outcomes), 0
    else:
        t, kept, left_out = scoped_traffic(agg.second_outcomes, scope.excluded)
    if t.requests == 0:
        return missing(slo_id, title, threshold, f"no requests in {scope.judged}")
    value = _ratio(slo_id, t)
    assert value is not None  # requests > 0
    message = (
        f"{title} {value * 100:.3f} % over {t.requests} requests in {kept} s of {scope.judged}; "
        f"{t.server_errors} unavailable, {t.client_errors_4xx} 4xx, {t.late} late excluded"
    )
    if scope.effective == "steady":
        message += (
            f"; {left_out} s in the fault phase not judged here (whole run: "
            f"{(_ratio(slo_id, whole) or 0) * 100:.3f} % over {whole.requests} requests)"
        )
    allowed = threshold.value if slo_id == "error_rate" else 1.0 - threshold.value
    if 0 < allowed < 1.0 / t.requests:
        message += (
            f"; caution: one failed request is {100.0 / t.requests:.3f} % of {t.requests}, "
            f"coarser than the {allowed * 100:.3f} % allowed"
        )
    message += f"; target {threshold.text}"
    evidence = _ratio_evidence(t, whole, scope, kept, left_out)
    return judged(slo_id, title, threshold, value, "ratio", message, evidence)


def _ratio_evidence(
    t: Traffic, whole: Traffic, scope: JudgedScope, kept: int, left_out: int
) -> dict[str, Any]:
    """The judged counts, the scope and what the whole run showed."""
    evidence = t.model_dump(
        exclude={"duration_s", "mean_rps", "peak_rps", "peak_window_s", "peak_window_start_wall"}
    )
    evidence.update(
        scope=scope.requested,
        scope_effective=scope.effective,
        judged=scope.judged,
        seconds_judged=kept,
        seconds_excluded=left_out,
        excluded_windows_wall=[[a, b if math.isfinite(b) else None] for a, b in scope.excluded],
        whole_run={
            "requests": whole.requests,
            "availability": whole.availability,
            "error_rate": whole.error_rate,
        },
    )
    return evidence


def budget_probes(probes: Sequence[Probe] | None) -> list[Probe]:
    return [p for p in probes or () if p.kind in BUDGET_PROBE_KINDS]


def budget_result(
    spec: SloSpec, budget: ErrorBudget, probes: Sequence[Probe] | None
) -> SloResult | None:
    """The `error_budget` SLO: outage seconds / budget seconds (None when disabled)."""
    threshold = spec.threshold("error_budget")
    if threshold is None:
        return None
    slo_id, title = "error_budget", "error budget burn"
    used = budget_probes(probes)
    if probes is None:
        return missing(slo_id, title, threshold, "no probes.jsonl (client-visible outage unknown)")
    if not used or budget.outage_s is None or budget.budget_s <= 0:
        return missing(
            slo_id, title, threshold, "no read or write probes (client-visible outage unknown)"
        )
    value = budget.outage_s / budget.budget_s
    span = used[-1].t_mono - used[0].t_mono
    target = f"{budget.availability_target * 100:g} %/{budget.window_days:g} days"
    message = (
        f"{budget.outage_s:.1f} s of client-visible outage (time with a failing read or write "
        f"probe, {len(used)} probes over {span:.0f} s) uses {value * 100:.2f} % of the {target} "
        f"error budget ({budget.budget_s:.0f} s); target {threshold.text} "
        f"(= {threshold.value * budget.budget_s:.0f} s of outage)"
    )
    evidence = budget.model_dump()
    evidence.update(
        budget_burn=value,
        allowed_outage_s=threshold.value * budget.budget_s,
        probes_judged=len(used),
        probe_kinds=list(BUDGET_PROBE_KINDS),
        probe_span_s=span,
        outage_measure="union of the intervals in which the latest read or write probe had "
        "failed (each probe stands until the next probe of its kind), over the whole run",
    )
    window = Window(start_wall=used[0].t_wall, end_wall=used[-1].t_wall)
    return judged(slo_id, title, threshold, value, "ratio", message, evidence, window)

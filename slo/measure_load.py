"""Latency, throughput, availability and per-second series from the request histograms.

Run phases (baseline, fault, recovery, cooldown) come from `phase` events, else
from the fault's injection and rollback. A second belongs to the phase holding
its midpoint (1 s resolution, as the histograms are per second). Outcomes:
`ok` served; `http_4xx` served but an error; `http_5xx`, `timeout`, `conn_error`
(and any unknown outcome) unavailable; `late` (open model, not sent on time)
excluded from availability and error rate and reported. Pure CPU work: lines are
decoded one second at a time so memory stays bounded for long runs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

import numpy as np

from bedrock.errors import InputError
from bedrock.histograms import counts_len, decode_span, max_ms, mean_ms, percentiles_ms
from slo.results import FaultInfo, LatencyStats, PhaseLatency, Series, Traffic
from slo.runfolder import Event, RequestLine


@dataclass(frozen=True)
class RunPhase:
    name: str
    start_wall: float  # -inf / +inf for open ends
    end_wall: float


def planned_windows(run: dict[str, Any]) -> dict[str, float]:
    """run.json `windows_s`: each phase's planned seconds (the orchestration's profile)."""
    raw = run.get("windows_s")
    if not isinstance(raw, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in raw.items()
        if type(v) in (int, float) and math.isfinite(v) and v > 0
    }


def run_phases(
    events: Sequence[Event], run: dict[str, Any], fault: FaultInfo | None
) -> list[RunPhase]:
    """Phases from `phase` events, else derived from the fault.

    The last phase (recovery) spans its planned window (run.json `windows_s`): the run
    goes on after it (stopping the load, collecting evidence), and a run cut short
    still owes the planned seconds (coverage). A last `fault` phase keeps its marks:
    it holds the rollback, whose length no plan states.
    """
    phases = _marked_phases(events, run, fault)
    planned = planned_windows(run)
    last = phases[-1]
    if last.name in planned and last.name != "fault" and math.isfinite(last.start_wall):
        phases[-1] = RunPhase(last.name, last.start_wall, last.start_wall + planned[last.name])
    return phases


def phase_expected_seconds(phase: RunPhase) -> int | None:
    """Whole request seconds whose midpoint lies in the phase (None for an open end)."""
    if not (math.isfinite(phase.start_wall) and math.isfinite(phase.end_wall)):
        return None
    first = math.ceil(phase.start_wall - 0.5)
    last = math.ceil(phase.end_wall - 0.5) - 1
    return max(0, last - first + 1)


def _marked_phases(
    events: Sequence[Event], run: dict[str, Any], fault: FaultInfo | None
) -> list[RunPhase]:
    start = run.get("started_wall")
    end = run.get("ended_wall")
    start_w = float(start) if isinstance(start, (int, float)) else -math.inf
    end_w = float(end) if isinstance(end, (int, float)) else math.inf
    marks = [e for e in events if e.kind == "phase" and isinstance(e.detail.get("name"), str)]
    if marks:
        phases = []
        for i, e in enumerate(marks):
            stop = marks[i + 1].t_wall if i + 1 < len(marks) else end_w
            phases.append(RunPhase(str(e.detail["name"]), e.t_wall, stop))
        if marks[0].t_wall > start_w and marks[0].detail["name"] != "baseline":
            phases.insert(0, RunPhase("baseline", start_w, marks[0].t_wall))
        return phases
    if fault is None:
        return [RunPhase("baseline", start_w, end_w)]
    phases = [RunPhase("baseline", start_w, fault.t_wall)]
    if fault.rolled_back_wall is not None:
        phases.append(RunPhase("fault", fault.t_wall, fault.rolled_back_wall))
        phases.append(RunPhase("recovery", fault.rolled_back_wall, end_w))
    else:
        phases.append(RunPhase("fault", fault.t_wall, end_w))
    return phases


def _phase_of(second: int, phases: Sequence[RunPhase]) -> str | None:
    mid = second + 0.5
    for p in phases:
        if p.start_wall <= mid < p.end_wall:
            return p.name
    return None


def classify(outcome: str) -> str:
    """ok | client_error | server_error | late."""
    if outcome == "ok":
        return "ok"
    if outcome == "late":
        return "late"
    if outcome.startswith("http_4"):
        return "client_error"
    return "server_error"


def latency_stats(counts: np.ndarray) -> LatencyStats:
    p50, p95, p99 = percentiles_ms(counts, (50.0, 95.0, 99.0))
    return LatencyStats(
        count=int(counts.sum()),
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        max_ms=max_ms(counts),
        mean_ms=mean_ms(counts),
    )


@dataclass
class LoadAggregate:
    """Everything the request lines yield; `phase_counts` keeps counts for threshold checks."""

    series: Series
    phases: list[PhaseLatency]
    endpoints: dict[str, LatencyStats]
    traffic: Traffic
    phase_counts: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # (wall second, outcome -> count) per second with traffic: scoped availability (slo.scope)
    second_outcomes: list[tuple[int, dict[str, int]]] = field(default_factory=list)


def aggregate_requests(
    lines: Sequence[RequestLine], phases: Sequence[RunPhase], window_s: int
) -> LoadAggregate:
    """One pass over the lines (sorted by second): merged histograms per phase and endpoint."""
    acc = _OnePass(counts_len())
    for t, group in groupby(lines, key=lambda r: r.t):
        acc.add_second(t, group, _phase_of(t, phases))
    notes = (
        [f"unknown outcomes counted as unavailable: {sorted(acc.unknown)}"] if acc.unknown else []
    )
    return LoadAggregate(
        series=acc.series,
        phases=_phase_latencies(phases, acc),
        endpoints={ep: latency_stats(c) for ep, c in sorted(acc.per_ep.items())},
        traffic=traffic_from(acc.series, dict(acc.outcomes_total), window_s),
        phase_counts=acc.per_phase,
        notes=notes,
        second_outcomes=acc.second_outcomes,
    )


_KNOWN_OUTCOMES = ("ok", "late", "timeout", "conn_error")  # and every http_*


class _OnePass:
    """aggregate_requests' running state: histograms summed per endpoint, per phase and
    endpoint, per phase; outcome totals; the per-second series. Only the current second's
    counts span is non-zero in `second_counts`, so clearing it is cheap."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.per_phase_ep: dict[tuple[str, str], np.ndarray] = {}
        self.per_ep: dict[str, np.ndarray] = {}
        self.per_phase: dict[str, np.ndarray] = {}
        self.phase_seconds: dict[str, int] = defaultdict(int)
        self.outcomes_total: dict[str, int] = defaultdict(int)
        self.series = Series()
        self.second_outcomes: list[tuple[int, dict[str, int]]] = []
        self.unknown: set[str] = set()
        self.second_counts = np.zeros(n, dtype=np.int64)
        self.s_lo, self.s_hi = n, -1

    def _acc(self, store: dict[Any, np.ndarray], key: object) -> np.ndarray:
        acc = store.get(key)
        if acc is None:
            acc = store[key] = np.zeros(self.n, dtype=np.int64)
        return acc

    def add_second(self, t: int, group: Iterable[RequestLine], phase: str | None) -> None:
        ok = err = 0
        this_second: dict[str, int] = defaultdict(int)
        self.second_outcomes.append((t, this_second))
        if self.s_hi >= 0:
            self.second_counts[self.s_lo : self.s_hi + 1] = 0
        self.s_lo, self.s_hi = self.n, -1
        for line in group:
            self._add_histogram(line, phase)
            line_ok, line_err = self._add_outcomes(line.outcomes, this_second)
            ok, err = ok + line_ok, err + line_err
        self._close_second(t, phase, ok, err)

    def _add_histogram(self, line: RequestLine, phase: str | None) -> None:
        try:
            counts, lo, hi = decode_span(line.hist_b64)
        except Exception as exc:  # hdrh raises several types for a corrupt blob
            raise InputError(f"{line.where}: key 'hist' is not an HdrHistogram ({exc})") from None
        if hi < 0:
            return
        span = counts[lo : hi + 1]
        self.s_lo, self.s_hi = min(self.s_lo, lo), max(self.s_hi, hi)
        self.second_counts[lo : hi + 1] += span
        self._acc(self.per_ep, line.endpoint)[lo : hi + 1] += span
        if phase is not None:
            self._acc(self.per_phase_ep, (phase, line.endpoint))[lo : hi + 1] += span

    def _add_outcomes(
        self, outcomes: dict[str, int], this_second: dict[str, int]
    ) -> tuple[int, int]:
        """Count one line's outcomes; returns its (ok, client or server error) counts."""
        ok = err = 0
        for outcome, count in outcomes.items():
            self.outcomes_total[outcome] += count
            this_second[outcome] += count
            kind = classify(outcome)
            if kind == "ok":
                ok += count
            elif kind in ("client_error", "server_error"):
                err += count
            if outcome not in _KNOWN_OUTCOMES and not outcome.startswith("http_"):
                self.unknown.add(outcome)
        return ok, err

    def _close_second(self, t: int, phase: str | None, ok: int, err: int) -> None:
        lo, hi = self.s_lo, self.s_hi
        if phase is not None:
            self.phase_seconds[phase] += 1
            phase_counts = self._acc(self.per_phase, phase)
            if hi >= 0:
                phase_counts[lo : hi + 1] += self.second_counts[lo : hi + 1]
        p50, p95, p99 = (
            percentiles_ms(self.second_counts[lo : hi + 1], (50.0, 95.0, 99.0), lo)
            if hi >= 0
            else [None, None, None]
        )
        self.series.t.append(t)
        self.series.p50_ms.append(p50)
        self.series.p95_ms.append(p95)
        self.series.p99_ms.append(p99)
        self.series.ok.append(ok)
        self.series.errors.append(err)


def _phase_latencies(phases: Sequence[RunPhase], acc: _OnePass) -> list[PhaseLatency]:
    """Each phase with traffic: its latency, per endpoint too, and how much of it was loaded."""
    out = []
    series = acc.series
    for p in phases:
        if p.name not in acc.per_phase:
            continue
        eps = {
            ep: latency_stats(c) for (ph, ep), c in sorted(acc.per_phase_ep.items()) if ph == p.name
        }
        expected = phase_expected_seconds(p)
        judged = acc.phase_seconds[p.name]
        out.append(
            PhaseLatency(
                name=p.name,
                planned_s=expected,
                coverage=min(1.0, judged / expected) if expected else None,
                start_wall=p.start_wall if math.isfinite(p.start_wall) else float(series.t[0]),
                end_wall=p.end_wall if math.isfinite(p.end_wall) else float(series.t[-1] + 1),
                seconds_with_traffic=judged,
                all=latency_stats(acc.per_phase[p.name]),
                endpoints=eps,
            )
        )
    return out


def traffic_from(series: Series, outcomes: dict[str, int], window_s: int) -> Traffic:
    """Availability, error rate, mean and best-window throughput (ok req/s)."""
    traffic = count_outcomes(outcomes, window_s)
    if not series.t:
        return traffic
    first, last = series.t[0], series.t[-1]
    dense = np.zeros(last - first + 1, dtype=np.float64)
    dense[np.asarray(series.t) - first] = series.ok
    traffic.duration_s = len(dense)
    traffic.mean_rps = float(dense.mean())
    w = min(window_s, len(dense))
    traffic.peak_window_s = w
    sums = np.convolve(dense, np.ones(w), mode="valid") / w
    best = int(np.argmax(sums))
    traffic.peak_rps = float(sums[best])
    traffic.peak_window_start_wall = float(first + best)
    return traffic


def count_outcomes(outcomes: dict[str, int], window_s: int = 30) -> Traffic:
    """Requests, ok, 4xx, unavailable and late counts; availability and error rate."""
    traffic = Traffic(outcomes=dict(outcomes), peak_window_s=window_s)
    for outcome, count in outcomes.items():
        kind = classify(outcome)
        if kind == "late":
            traffic.late += count
            continue
        traffic.requests += count
        if kind == "ok":
            traffic.ok += count
        elif kind == "client_error":
            traffic.client_errors_4xx += count
        else:
            traffic.server_errors += count
    if traffic.requests:
        traffic.availability = (traffic.requests - traffic.server_errors) / traffic.requests
        traffic.error_rate = (traffic.client_errors_4xx + traffic.server_errors) / traffic.requests
    return traffic

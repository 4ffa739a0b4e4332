"""`evaluate(run_dir, spec)`: read a run folder, measure, and judge every SLO.

The only function here that touches files is `load_run` (via slo.runfolder);
everything after it is pure. The spec defaults to `RUN_DIR/slo.yaml` when the
orchestration saved one there, else to the seed's targets (SloSpec()).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from bedrock.errors import EXIT_INCONCLUSIVE
from bedrock.histograms import stat_ms
from bedrock.runfolder import spec as spec_file
from bedrock.version import __version__
from slo.budget import error_budget
from slo.durability import durability_result, rpo_result
from slo.measure_data import leader_changes, measure_data_loss
from slo.measure_failover import (
    failover_good,
    failover_timeline,
    find_fault,
    outage_seconds,
    sustained_recovery,
)
from slo.measure_load import LoadAggregate, aggregate_requests, run_phases
from slo.measure_scale import measure_scale
from slo.results import (
    Measurements,
    PhaseLatency,
    Results,
    RunInfo,
    SloResult,
    Verdict,
    Window,
)
from slo.runfolder import RunData, load_run
from slo.scope import (
    BUDGET_PROBE_KINDS,
    budget_probes,
    budget_result,
    fault_windows,
    ratio_results,
)
from slo.spec import PHASES, SloSpec, load_spec
from slo.thresholds import Threshold
from slo.verdict import judge_value, judged, missing, recovery_result, run_verdict

MIN_COVERAGE = 0.8  # DESIGN.md: a phase loaded under 80 % of its window is inconclusive


def spec_for(run_dir: Path, spec: SloSpec | None) -> SloSpec:
    if spec is not None:
        return spec
    saved = spec_file.saved_spec(run_dir)
    return load_spec(saved) if saved is not None else SloSpec()


def evaluate(run_dir: Path, spec: SloSpec | None = None) -> Results:
    """Measure a run folder and judge it against `spec`; raises InputError on bad files."""
    run_dir = Path(run_dir)
    spec = spec_for(run_dir, spec)
    data = load_run(run_dir)
    return judge(data, spec)


def _run_info(data: RunData) -> RunInfo:
    run = data.run

    def s(key: str) -> str | None:
        v = run.get(key)
        return str(v) if v not in (None, "") else None

    def f(key: str) -> float | None:
        v = run.get(key)
        return float(v) if isinstance(v, (int, float)) else None

    return RunInfo(
        name=s("name") or data.run_dir.name,
        run_dir=str(data.run_dir),
        profile=s("profile"),
        target=s("target"),
        scenario=s("scenario"),
        experiment=s("experiment"),
        expect=run.get("expect", "hold"),
        started_wall=f("started_wall"),
        ended_wall=f("ended_wall"),
    )


def judge(data: RunData, spec: SloSpec) -> Results:
    """Measurements and verdicts from loaded run data (pure)."""
    info = _run_info(data)
    regions = list((data.run.get("regions") or {}).keys())
    fault = find_fault(data.events, regions)
    had_experiment = info.experiment is not None
    fault_expected = fault is not None or had_experiment
    m = Measurements(fault=fault)
    notes = list(data.notes)
    if fault is not None and fault.faults_injected > 1:
        notes.append(
            f"{fault.faults_injected} faults injected; failover, RTO and RPO are measured from the first"
        )
    slos = _recovery_results(data, spec, m, had_experiment)
    slos += _data_results(data, spec, m, fault_expected)

    # Latency, throughput, availability (request histograms)
    phases = run_phases(data.events, data.run, fault)
    agg: LoadAggregate | None = None
    if data.requests:
        agg = aggregate_requests(data.requests, phases, spec.throughput_settings.window_s)
        m.phases, m.endpoints, m.traffic = agg.phases, agg.endpoints, agg.traffic
        notes.extend(agg.notes)
    slos.extend(_latency_results(spec, agg, fault_expected))
    slos.extend(_traffic_results(spec, agg, info.profile))
    slos.extend(ratio_results(spec, agg, fault_expected, phases, info.started_wall))
    fault_phases = fault_windows(phases)
    if fault is not None and fault_phases:
        if not any(a <= fault.t_wall < b for a, b in fault_phases):
            notes.append(
                "fault.injected lies outside the fault phase: steady-scope availability "
                "and error rate may include the fault"
            )
    slos += _scale_results(data, spec, m, agg)
    slos += _budget_results(data, spec, m)
    verdict = _aborted(run_verdict(slos, info.expect), data, notes)
    results = Results(
        generated_wall=time.time(),
        gameday_version=__version__,
        run=info,
        spec=spec.model_dump(by_alias=True, mode="json"),
        verdict=verdict,
        slos=slos,
        measurements=m,
        notes=notes,
    )
    if agg is not None:
        results._series = agg.series
    results._data = data
    return results


def _recovery_results(
    data: RunData, spec: SloSpec, m: Measurements, had_experiment: bool
) -> list[SloResult]:
    """Failover time and RTO (probes + the fault event); sets m.failover, m.rto and the timeline."""
    fault, fs = m.fault, spec.failover_settings
    slos: list[SloResult] = []
    for key, title, kinds in (
        ("failover", "failover time", fs.probe_kinds),
        ("rto", "RTO", fs.rto_probe_kinds),
    ):
        threshold = spec.threshold(key)
        if threshold is None:
            continue
        if fault is None:
            reason = (
                "an experiment ran but no fault.injected event was recorded"
                if had_experiment
                else "no fault in this run"
            )
            slos.append(missing(key, title, threshold, reason, applicable=had_experiment))
            continue
        if not data.probes:
            slos.append(missing(key, title, threshold, "no probes.jsonl (client view missing)"))
            continue
        good = failover_good(fault) if key == "failover" else (lambda p: p.ok)
        measure = sustained_recovery(
            data.probes, fault.t_mono, kinds, good, fs.sustained_window_s, fs.max_probe_gap_s
        )
        setattr(m, key, measure)
        slos.append(recovery_result(key, title, threshold, measure, fault.t_wall))
    if fault is not None:
        end = m.failover.value_s if m.failover is not None else None
        m.failover_timeline = failover_timeline(data.events, fault, end)
    return slos


def _data_results(
    data: RunData, spec: SloSpec, m: Measurements, fault_expected: bool
) -> list[SloResult]:
    """Lost writes, durability and RPO (ledger + readback + leader changes); sets m.data."""
    if data.ledger is not None and data.readback is not None:
        m.data = measure_data_loss(
            data.ledger,
            data.readback,
            m.fault.t_wall if m.fault else None,
            leader_changes(data.events),
        )
    slos = []
    for key, result in (("durability", durability_result), ("rpo", rpo_result)):
        threshold = spec.threshold(key)
        if threshold is not None:
            slos.append(result(data, m, threshold, fault_expected))
    return slos


def _scale_results(
    data: RunData, spec: SloSpec, m: Measurements, agg: LoadAggregate | None
) -> list[SloResult]:
    """Scale time (load.step / scale.decision / replica.ready + per-second p95); sets m.scale."""
    threshold = spec.threshold("scale_time")
    p95_target = spec.p95_target_s()
    has_steps = any(e.kind == "load.step" for e in data.events)
    if has_steps and agg is not None and p95_target is not None:
        m.scale = measure_scale(
            data.events, agg.series, p95_target * 1000, spec.scale_settings.sustained_window_s
        )
    if threshold is None:
        return []
    return [_scale_result(m, threshold, has_steps, agg is not None, p95_target)]


def _budget_results(data: RunData, spec: SloSpec, m: Measurements) -> list[SloResult]:
    """The error budget: probe outage and unavailable requests; sets m.error_budget."""
    avail_t = spec.threshold("availability")
    outage = (
        outage_seconds(data.probes or [], BUDGET_PROBE_KINDS, -math.inf, math.inf)
        if budget_probes(data.probes)
        else None
    )
    # the budget is an availability budget: only unavailable requests spend it (not 4xx)
    ratio = (
        1.0 - m.traffic.availability if m.traffic and m.traffic.availability is not None else None
    )
    m.error_budget = error_budget(
        avail_t.value if avail_t else 0.9995, spec.budget.window_days, outage, ratio
    )
    budget_slo = budget_result(spec, m.error_budget, data.probes)
    return [budget_slo] if budget_slo is not None else []


def _aborted(verdict: Verdict, data: RunData, notes: list[str]) -> Verdict:
    """An aborted run proves nothing held: a pass becomes inconclusive, and so does any
    verdict of a run whose runner died (the abort's reason goes into the notes)."""
    aborts = [e for e in data.events if e.kind == "abort"]
    if not aborts:
        return verdict
    reason = str(aborts[0].detail.get("reason", "no reason given"))
    notes.append(f"the run was aborted: {reason}")
    if any(e.detail.get("runner_died") for e in aborts):
        # the runner died mid-run (gameday recover marked it): nothing is proven either way
        return Verdict(
            status="inconclusive",
            exit_code=EXIT_INCONCLUSIVE,
            summary=f"interrupted: {reason}; measured so far: {verdict.summary}",
        )
    if verdict.status == "pass":
        # a cut-short run cannot prove the SLOs held over the planned run
        return Verdict(
            status="inconclusive",
            exit_code=EXIT_INCONCLUSIVE,
            summary=f"run aborted ({reason}); measured SLOs held",
        )
    return verdict


def _latency_results(
    spec: SloSpec, agg: LoadAggregate | None, fault_expected: bool
) -> list[SloResult]:
    out = []
    for phase in PHASES:
        for threshold in spec.latency_thresholds(phase):
            slo_id, title = (
                f"latency.{phase}.{threshold.stat}",
                f"{threshold.stat} latency ({phase})",
            )
            if agg is None:
                out.append(missing(slo_id, title, threshold, "no requests/*.jsonl histograms"))
                continue
            counts = agg.phase_counts.get(phase)
            pl = next((p for p in agg.phases if p.name == phase), None)
            if counts is None or pl is None:
                applicable = phase == "baseline" or fault_expected
                out.append(
                    missing(
                        slo_id,
                        title,
                        threshold,
                        f"no requests in the {phase} phase",
                        applicable=applicable,
                    )
                )
                continue
            value_ms = stat_ms(counts, threshold.stat, threshold.percentile)
            pl.checked[threshold.text] = value_ms
            value_s = value_ms / 1000 if value_ms is not None else None
            status = judge_value(threshold, value_s)
            message = (
                f"{title} {value_ms:.1f} ms over {pl.all.count} requests (failed and timed-out "
                f"ones at the time they took), {_judged(pl)}; target {threshold.text}"
                if value_ms is not None
                else f"{title}: no samples"
            )
            if status == "pass" and pl.coverage is not None and pl.coverage < MIN_COVERAGE:
                # a partly loaded phase cannot show the phase held (a breach it shows stands)
                status = "inconclusive"
                message += f"; the load covered under {MIN_COVERAGE:.0%} of the phase: inconclusive"
            out.append(
                SloResult(
                    id=slo_id,
                    title=title,
                    threshold=threshold.text,
                    status=status,
                    value=value_ms,
                    unit="ms",
                    window=Window(start_wall=pl.start_wall, end_wall=pl.end_wall),
                    message=message,
                    evidence={"phase": pl.model_dump(exclude={"checked"})},
                )
            )
    return out


def _judged(pl: PhaseLatency) -> str:
    if pl.planned_s is None or pl.coverage is None:
        return f"judged over {pl.seconds_with_traffic} s"
    return (
        f"judged over {pl.seconds_with_traffic} of the phase's {pl.planned_s} s "
        f"({pl.coverage:.0%} covered)"
    )


def _traffic_results(
    spec: SloSpec, agg: LoadAggregate | None, profile: str | None
) -> list[SloResult]:
    """Throughput (availability and error rate: slo.scope.ratio_results)."""
    threshold, scale = spec.throughput_target(profile)
    if threshold is None:
        return []
    t = agg.traffic if agg is not None else None
    if t is None or t.requests == 0:
        return [missing("throughput", "throughput", threshold, "no requests/*.jsonl histograms")]
    evidence = t.model_dump()
    evidence["profile_multiplier"] = scale
    value = t.peak_rps
    window = Window(
        start_wall=t.peak_window_start_wall,
        end_wall=(t.peak_window_start_wall or 0) + t.peak_window_s,
    )
    message = (
        f"best {t.peak_window_s} s window served {value or 0:.0f} ok req/s "
        f"(mean {t.mean_rps or 0:.0f}); target {threshold.text}"
    )
    return [
        judged("throughput", "throughput", threshold, value, "req/s", message, evidence, window)
    ]


def _scale_result(
    m: Measurements,
    threshold: Threshold,
    has_steps: bool,
    has_requests: bool,
    p95_target: float | None,
) -> SloResult:
    title = "scale time"
    if not has_steps:
        return missing(
            "scale_time",
            title,
            threshold,
            "no load.step event (no load step in this run)",
            applicable=False,
        )
    if not has_requests:
        return missing(
            "scale_time", title, threshold, "no requests/*.jsonl histograms (p95 unknown)"
        )
    if p95_target is None:
        return missing(
            "scale_time", title, threshold, "the spec has no baseline 'p95 <' bound to wait for"
        )
    values = [s.scale_time_s for s in m.scale]
    evidence = {"steps": [s.model_dump() for s in m.scale]}
    if all(v is not None for v in values):
        worst = max(values)  # type: ignore[type-var]
        i = values.index(worst)
        step = m.scale[i]
        return SloResult(
            id="scale_time",
            title=title,
            threshold=threshold.text,
            status=judge_value(threshold, worst),
            value=worst,
            unit="s",
            evidence=evidence,
            window=Window(start_wall=step.t_wall, end_wall=step.t_wall + worst),  # type: ignore[operator]
            message=f"slowest of {len(values)} load step(s): {worst:.1f} s to desired replicas ready and p95 "
            f"under {p95_target * 1000:g} ms; target {threshold.text}",
        )
    bounds = [s.lower_bound_s for s in m.scale if s.scale_time_s is None]
    bound = max(b for b in bounds if b is not None) if any(b is not None for b in bounds) else None
    status = judge_value(threshold, None, bound)
    notes = "; ".join(s.note for s in m.scale if s.scale_time_s is None)
    return SloResult(
        id="scale_time",
        title=title,
        threshold=threshold.text,
        status=status,
        value=bound,
        unit="s",
        value_is_lower_bound=bound is not None,
        evidence=evidence,
        message=f"scale not completed: at least {bound or 0:.1f} s ({notes}); target {threshold.text}",
    )

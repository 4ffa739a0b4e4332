"""Text reports from Results: report.md and junit.xml (pure string building).

JUnit: one testcase per SLO. fail -> <failure> with the numbers; inconclusive ->
<error type="inconclusive"> (CI shows it red, distinct from a failure);
not_applicable -> <skipped>. For a negative control (`expect: breach`) the
SLO cases report what was measured without failing, and one extra case
`negative_control.breach_detected` carries the run's verdict.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from slo.results import DataLoss, Measurements, PhaseLatency, Results, SloResult

_MARK = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE", "not_applicable": "n/a"}


def _when(t: float | None) -> str:
    if t is None:
        return "-"
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-4] + "Z"


def fmt_value(s: SloResult) -> str:
    if s.value is None:
        return "-"
    if s.unit == "ratio":
        return f"{s.value * 100:.3f} %"
    if s.unit == "ms":
        return f"{s.value:.1f} ms"
    if s.unit == "s":
        return f"{'>= ' if s.value_is_lower_bound else ''}{s.value:.2f} s"
    if s.unit == "req/s":
        return f"{s.value:.0f} req/s"
    return f"{s.value:g} {s.unit}"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _head(results: Results) -> list[str]:
    r, v = results.run, results.verdict
    lines = [
        f"# Game day report: {r.name}",
        "",
        f"**Verdict: {v.status.upper()}** (exit {v.exit_code}): {v.summary}",
        "",
        f"- run folder: `{r.run_dir}`",
        f"- scenario `{r.scenario or '-'}`, experiment `{r.experiment or '-'}`, profile `{r.profile or '-'}`, "
        f"target `{r.target or '-'}`, expect `{r.expect}`",
        f"- started {_when(r.started_wall)}, ended {_when(r.ended_wall)}",
        "",
        "## SLOs",
        "",
        "| SLO | threshold | measured | verdict | evidence |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {s.title} | `{s.threshold}` | {fmt_value(s)} | {_MARK[s.status]} | {s.message} |"
        for s in results.slos
    ]
    if results.measurements.error_budget is not None:
        lines += ["", "## Error budget", "", results.measurements.error_budget.sentence]
    return lines


def _fault(m: Measurements) -> list[str]:
    if m.fault is None:
        return []
    f = m.fault
    lines = [
        "",
        "## Fault and failover",
        "",
        f"Fault `{f.target or '?'}` injected at {_when(f.t_wall)}, rolled back at {_when(f.rolled_back_wall)}; "
        f"surviving regions: {', '.join(f.surviving_regions) if f.surviving_regions is not None else 'any'}.",
        "",
    ]
    if m.failover_timeline:
        lines += [
            "| step | from (s) | to (s) | duration (s) | source |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {p.name} | {p.start_s:.2f} | {p.end_s:.2f} | {p.end_s - p.start_s:.2f} | {p.source} |"
            for p in m.failover_timeline
        ]
    return lines


def _losses(d: DataLoss) -> list[str]:
    lines = [
        f"Lost acknowledged writes: {d.lost_before_fault} acknowledged before the fault, "
        f"{d.lost_after_fault} after it, {d.lost_unclassified} with no fault recorded. "
        f"Earliest lost seq {d.earliest_lost_seq}; last kept before it: seq {d.last_kept_seq} "
        f"acked at {_when(d.last_kept_ack_wall)}. Lost (first {len(d.lost_seqs_sample)}): "
        f"{', '.join(map(str, d.lost_seqs_sample))}",
        "",
        "| loss | writes | seq | acked (s from the fault) | span (RPO) | leader then | discarded |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, loss in enumerate(d.losses, 1):
        acked = (
            "-"
            if loss.first_ack_after_fault_s is None
            else f"{loss.first_ack_after_fault_s:+.1f} .. {loss.last_ack_after_fault_s:+.1f}"
        )
        lines.append(
            f"| {i} | {loss.count} | {loss.first_seq}-{loss.last_seq} | {acked} | "
            f"{loss.span_s:.2f} s | {', '.join(loss.leaders) or '-'} | "
            f"{loss.discarded_by or '-'} |"
        )
    return lines


def _writes(d: DataLoss | None) -> list[str]:
    if d is None:
        return []
    lines = [
        "",
        "## Writes (ledger vs read-back)",
        "",
        f"{d.writes} writes by `{d.client}`: {d.acknowledged} acknowledged, **{d.lost} lost**, "
        f"{d.indeterminate} indeterminate ({d.indeterminate_present} present after recovery), "
        f"{d.failed} failed ({d.failed_but_present} present anyway). RPO: "
        f"{'-' if d.rpo_s is None else f'{d.rpo_s:.2f} s'}.",
    ]
    if d.lost:
        lines += _losses(d)
    if d.note:
        lines.append(f"Note: {d.note}")
    return lines


def _phases(phases: list[PhaseLatency]) -> list[str]:
    if not phases:
        return []
    lines = [
        "",
        "## Latency per phase (ms)",
        "",
        "Every request counts at the time it took, failed and timed-out ones included "
        "(open model: from its intended send time). Judged seconds: request seconds "
        "of the phase with load; under 80 % of the phase is inconclusive.",
        "",
        "| phase | judged s | of planned s | covered |",
        "|---|---|---|---|",
    ]
    for p in phases:
        covered = "-" if p.coverage is None else f"{p.coverage:.0%}"
        planned = "-" if p.planned_s is None else str(p.planned_s)
        lines.append(f"| {p.name} | {p.seconds_with_traffic} | {planned} | {covered} |")
    lines += [
        "",
        "| phase | endpoint | requests | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in phases:
        for name, st in [("all", p.all), *p.endpoints.items()]:
            lines.append(
                f"| {p.name} | {name} | {st.count} | {_ms(st.p50_ms)} | {_ms(st.p95_ms)} | "
                f"{_ms(st.p99_ms)} | {_ms(st.max_ms)} |"
            )
    return lines


def _traffic_and_scale(m: Measurements) -> list[str]:
    lines: list[str] = []
    if m.traffic is not None:
        t = m.traffic
        lines += [
            "",
            "## Traffic",
            "",
            f"{t.requests} requests over {t.duration_s} s (mean {t.mean_rps or 0:.0f} ok req/s, best "
            f"{t.peak_window_s} s window {t.peak_rps or 0:.0f} ok req/s); outcomes: "
            + ", ".join(f"{k} {n}" for k, n in sorted(t.outcomes.items())),
        ]
    if m.scale:
        lines += [
            "",
            "## Scale steps",
            "",
            "| step at | users | desired | replicas ready | p95 back | scale time | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for step in m.scale:
            lines.append(
                f"| {_when(step.t_wall)} | {step.users or '-'} | {step.desired or '-'} | {_when(step.replicas_ready_wall)} | "
                f"{_when(step.p95_ok_wall)} | {'-' if step.scale_time_s is None else f'{step.scale_time_s:.1f} s'} | {step.note} |"
            )
    return lines


def markdown(results: Results) -> str:
    """report.md: the same content as report.html, for terminals and diffs."""
    m = results.measurements
    lines = _head(results) + _fault(m) + _writes(m.data) + _phases(m.phases)
    lines += _traffic_and_scale(m)
    if results.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in results.notes]
    lines += ["", f"_results schema {results.schema_}, gameday {results.gameday_version}_", ""]
    return "\n".join(lines)


def _slo_case(suite: ET.Element, results: Results, s: SloResult, counts: dict[str, int]) -> None:
    r = results.run
    case = ET.SubElement(suite, "testcase", classname=f"slo.{r.name}", name=s.id, time="0")
    counts["tests"] += 1
    text = f"{s.message}\nthreshold: {s.threshold}\nmeasured: {fmt_value(s)}\nwindow: {_when(s.window.start_wall)} .. {_when(s.window.end_wall)}"
    if s.status == "not_applicable":
        ET.SubElement(case, "skipped", message=s.message)
        counts["skipped"] += 1
    elif r.expect == "breach":
        ET.SubElement(case, "system-out").text = f"[negative control] {s.status}: {text}"
    elif s.status == "fail":
        ET.SubElement(case, "failure", message=s.message, type="slo.fail").text = text
        counts["failures"] += 1
    elif s.status == "inconclusive":
        ET.SubElement(case, "error", message=s.message, type="slo.inconclusive").text = text
        counts["errors"] += 1
    else:
        ET.SubElement(case, "system-out").text = text


def _breach_case(suite: ET.Element, results: Results, counts: dict[str, int]) -> None:
    """A negative control's extra case: the run's verdict (it fails when no breach was seen)."""
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"slo.{results.run.name}",
        name="negative_control.breach_detected",
        time="0",
    )
    counts["tests"] += 1
    v = results.verdict
    if v.status == "fail":
        ET.SubElement(case, "failure", message=v.summary, type="slo.fail").text = v.summary
        counts["failures"] += 1
    elif v.status == "inconclusive":
        ET.SubElement(case, "error", message=v.summary, type="slo.inconclusive").text = v.summary
        counts["errors"] += 1
    else:
        ET.SubElement(case, "system-out").text = v.summary


def junit_xml(results: Results) -> str:
    r = results.run
    suite = ET.Element(
        "testsuite",
        name=f"gameday.{r.name}",
        timestamp=dt.datetime.fromtimestamp(results.generated_wall, dt.UTC).strftime(
            "%Y-%m-%dT%H:%M:%S"
        ),
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("run_dir", r.run_dir),
        ("profile", r.profile),
        ("scenario", r.scenario),
        ("experiment", r.experiment),
        ("expect", r.expect),
        ("verdict", results.verdict.status),
    ):
        ET.SubElement(props, "property", name=key, value=str(value or ""))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for s in results.slos:
        _slo_case(suite, results, s, counts)
    if r.expect == "breach":
        _breach_case(suite, results, counts)
    for k, n in counts.items():
        suite.set(k, str(n))
    suite.set("time", "0")
    root = ET.Element("testsuites", {"name": "gameday", **{k: str(n) for k, n in counts.items()}})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

"""Verdicts: each SLO pass / fail / inconclusive (or not applicable) with its evidence.

Rules: missing data is inconclusive, never pass. A recovery that was never
observed fails only when its lower bound already breaks the threshold. An SLO
about faults is "not_applicable" only when the run had no experiment at all
(run.json `experiment` empty) and no fault event. The run verdict: any fail ->
fail (exit 1), else any inconclusive -> inconclusive (3), else pass (0);
`expect: breach` (a negative control) passes only when some SLO failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bedrock.errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_SLO_FAILED
from slo.results import RecoveryMeasure, SloResult, Status, Verdict, Window
from slo.thresholds import Threshold


def judge_value(
    threshold: Threshold, value: float | None, lower_bound: float | None = None
) -> Status:
    if value is not None:
        return "pass" if threshold.holds(value) else "fail"
    if lower_bound is not None and threshold.op in ("<", "<=") and not threshold.holds(lower_bound):
        return "fail"
    return "inconclusive"


def judged(
    slo_id: str,
    title: str,
    threshold: Threshold,
    value: float | None,
    unit: str,
    message: str,
    evidence: dict[str, Any],
    window: Window | None = None,
) -> SloResult:
    """A measured SLO: `value` judged against `threshold`."""
    return SloResult(
        id=slo_id,
        title=title,
        threshold=threshold.text,
        status=judge_value(threshold, value),
        value=value,
        unit=unit,
        message=message,
        window=window or Window(),
        evidence=evidence,
    )


def fmt_s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def recovery_result(
    slo_id: str,
    title: str,
    threshold: Threshold,
    measure: RecoveryMeasure,
    fault_wall: float,
) -> SloResult:
    status = judge_value(threshold, measure.value_s, measure.lower_bound_s)
    if measure.value_s is not None:
        res = f" (resolution {measure.resolution_s:.2f} s)" if measure.resolution_s else ""
        message = f"{title} {measure.value_s:.2f} s{res}; target {threshold.text}"
        if not measure.disruption_observed:
            message += "; no client-visible disruption after the fault"
    elif measure.lower_bound_s is not None:
        message = f"{title} not observed: at least {measure.lower_bound_s:.2f} s ({measure.note}); target {threshold.text}"
    else:
        message = f"{title} not measurable: {measure.note}"
    return SloResult(
        id=slo_id,
        title=title,
        threshold=threshold.text,
        status=status,
        value=measure.value_s if measure.value_s is not None else measure.lower_bound_s,
        unit="s",
        value_is_lower_bound=measure.value_s is None and measure.lower_bound_s is not None,
        message=message,
        window=Window(start_wall=fault_wall, end_wall=measure.recovered_at_wall),
        evidence=measure.model_dump(),
    )


def missing(
    slo_id: str, title: str, threshold: Threshold, reason: str, *, applicable: bool = True
) -> SloResult:
    return SloResult(
        id=slo_id,
        title=title,
        threshold=threshold.text,
        status="inconclusive" if applicable else "not_applicable",
        message=f"{title}: {reason}",
    )


def run_verdict(slos: Sequence[SloResult], expect: str) -> Verdict:
    judged = [s for s in slos if s.status != "not_applicable"]
    failed = [s.id for s in judged if s.status == "fail"]
    unknown = [s.id for s in judged if s.status == "inconclusive"]
    if not judged:
        return Verdict(
            status="inconclusive", exit_code=EXIT_INCONCLUSIVE, summary="no SLO could be judged"
        )
    if expect == "breach":
        if failed:
            return Verdict(
                status="pass",
                exit_code=EXIT_OK,
                summary=f"negative control: breach detected as expected ({', '.join(failed)})",
            )
        if unknown:
            return Verdict(
                status="inconclusive",
                exit_code=EXIT_INCONCLUSIVE,
                summary=f"negative control: no breach seen, but inconclusive: {', '.join(unknown)}",
            )
        return Verdict(
            status="fail",
            exit_code=EXIT_SLO_FAILED,
            summary="negative control: a breach was expected and none was detected",
        )
    if failed:
        extra = f"; inconclusive: {', '.join(unknown)}" if unknown else ""
        # a failed SLO with a headline (lost writes) leads the line: the reader sees it first
        heads = [
            str(s.evidence["headline"])
            for s in judged
            if s.status == "fail" and s.evidence.get("headline")
        ]
        lead = "".join(f"{h}; " for h in heads)
        return Verdict(
            status="fail",
            exit_code=EXIT_SLO_FAILED,
            summary=f"{lead}failed: {', '.join(failed)}{extra}",
        )
    if unknown:
        return Verdict(
            status="inconclusive",
            exit_code=EXIT_INCONCLUSIVE,
            summary=f"inconclusive: {', '.join(unknown)}",
        )
    return Verdict(status="pass", exit_code=EXIT_OK, summary=f"all {len(judged)} SLOs held")

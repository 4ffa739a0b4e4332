"""The durability and RPO verdicts from the measured data loss (slo.measure_data).

durability (spec `durability`, default `lost_after_fault <= 0`, DESIGN.md): an
acknowledged write lost after the fault means a later promotion, failback or
split brain discarded writes a leader had confirmed; no passing time figure may
hide it. `lost_after_fault` counts those (and any loss when no fault was
recorded); `lost` counts every lost acknowledged write. RPO is judged on the span
the lost writes cover. The verdict line of a failed run starts with `headline`:
how many writes were lost, when they were acknowledged, who led then and which
leader change discarded them.
"""

from __future__ import annotations

from bedrock.runfolder import ledger, readback
from slo.results import DataLoss, Measurements, SloResult, Window
from slo.runfolder import RunData
from slo.thresholds import Threshold
from slo.verdict import judge_value, judged, missing


def _span(a: float, b: float) -> str:
    return f"{a:.1f} s" if round(a, 1) == round(b, 1) else f"{a:.1f}-{b:.1f} s"


def _who(d: DataLoss) -> str:
    """`while X led; X lost the lead to Y at +t s` over the losses acked after the fault."""
    later = [loss for loss in d.losses if loss.after_fault or d.fault_wall is None]
    leaders: list[str] = []
    for loss in later:
        leaders += [name for name in loss.leaders if name not in leaders]
    text = f", while {', then '.join(leaders)} led" if leaders else ""
    discards = sorted({loss.discarded_by for loss in later if loss.discarded_by})
    if discards:
        text += f"; discarded when {' and '.join(discards)}"
    return text


def headline(d: DataLoss) -> str:
    """`82 acknowledged writes lost (acknowledged 12.2-20.3 s after the fault, while ...)`."""
    if not d.lost:
        return "no acknowledged write lost"
    parts = []
    if d.lost_after_fault_ack_s is not None:
        a, b = d.lost_after_fault_ack_s
        n = f"{d.lost_after_fault} " if d.lost_before_fault else ""
        parts.append(f"{n}acknowledged {_span(a, b)} after the fault{_who(d)}")
    if d.lost_before_fault_ack_s is not None:
        a, b = d.lost_before_fault_ack_s
        n = f"{d.lost_before_fault} " if d.lost_after_fault else ""
        parts.append(f"{n}acknowledged {_span(-b, -a)} before the fault")
    if d.lost_unclassified:
        parts.append(f"no fault recorded to classify them{_who(d)}")
    word = "write" if d.lost == 1 else "writes"
    return f"{d.lost} acknowledged {word} lost ({'; '.join(parts)})"


def _no_data(
    data: RunData, m: Measurements, slo_id: str, title: str, threshold: Threshold, fault_expected: bool
) -> SloResult | None:
    """The 'missing' result when the run has no ledger, no read-back or no acknowledged write."""
    if data.ledger is None or data.readback is None:
        what = ledger.FILE if data.ledger is None else readback.FILE
        applicable = fault_expected or data.ledger is not None
        return missing(slo_id, title, threshold, f"no {what}", applicable=applicable)
    if m.data is None or m.data.acknowledged == 0:
        return missing(slo_id, title, threshold, "no acknowledged write in the ledger")
    return None


def rpo_result(
    data: RunData, m: Measurements, threshold: Threshold, fault_expected: bool
) -> SloResult:
    title = "RPO"
    absent = _no_data(data, m, "rpo", title, threshold, fault_expected)
    if absent is not None:
        return absent
    d = m.data
    assert d is not None
    assert d.rpo_s is not None
    window = Window()
    if d.losses:
        worst = max(d.losses, key=lambda loss: loss.span_s)
        window = Window(
            start_wall=worst.first_ack_wall, end_wall=worst.first_ack_wall + worst.span_s
        )
        when = ""
        if worst.first_ack_after_fault_s is not None and worst.last_ack_after_fault_s is not None:
            a, b = worst.first_ack_after_fault_s, worst.last_ack_after_fault_s
            when = f", acknowledged {a:+.1f} to {b:+.1f} s from the fault"
        what = (
            f"RPO {d.rpo_s:.2f} s: the span of the largest of {len(d.losses)} loss(es), "
            f"{worst.count} lost acknowledged writes (seq {worst.first_seq}-{worst.last_seq}"
            f"{when}); {d.lost} of {d.acknowledged} acknowledged writes lost in all"
        )
    else:
        what = f"RPO 0 s: none of {d.acknowledged} acknowledged writes lost"
    message = (
        f"{what}; {d.indeterminate} indeterminate ({d.indeterminate_present} present) counted "
        f"apart; target {threshold.text}"
    )
    return judged("rpo", title, threshold, d.rpo_s, "s", message, d.model_dump(), window)


def durability_result(
    data: RunData, m: Measurements, threshold: Threshold, fault_expected: bool
) -> SloResult:
    title = "lost acknowledged writes"
    absent = _no_data(data, m, "durability", title, threshold, fault_expected)
    if absent is not None:
        return absent
    d = m.data
    assert d is not None
    if threshold.stat == "lost":
        value, counted = d.lost, "every lost acknowledged write counts"
    else:
        value = d.lost_after_fault + d.lost_unclassified
        counted = f"{value} lost after the fault count, {d.lost_before_fault} before it do not"
    status = judge_value(threshold, float(value))
    text = headline(d)
    message = (
        f"{text}; {d.acknowledged} acknowledged in all; {counted}; "
        f"{d.indeterminate} indeterminate counted apart; target {threshold.text}"
    )
    evidence = {
        "lost": d.lost,
        "lost_before_fault": d.lost_before_fault,
        "lost_after_fault": d.lost_after_fault,
        "lost_unclassified": d.lost_unclassified,
        "acknowledged": d.acknowledged,
        "losses": [loss.model_dump() for loss in d.losses],
    }
    if status == "fail":
        evidence["headline"] = text  # the run's verdict line leads with it
    return SloResult(
        id="durability",
        title=title,
        threshold=threshold.text,
        status=status,
        value=float(value),
        unit="writes",
        message=message,
        evidence=evidence,
    )

"""The error budget a run burned, as a number and a sentence.

Budget = (1 - availability target) x period, e.g. 99.95 % over 30 days = 21.6 min
of allowed unavailability. A run's share is its client-visible outage (probe
time during which reads or writes failed) over that budget; the request error
ratio of unavailable requests (5xx, timeouts, connection errors) over (1 - target) is the burn rate (1x spends the budget exactly in the period).
"""

from __future__ import annotations

from slo.results import ErrorBudget


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.1f} s"


def error_budget(
    availability_target: float,
    window_days: float,
    outage_s: float | None,
    request_error_ratio: float | None,
) -> ErrorBudget:
    budget_s = (1.0 - availability_target) * window_days * 86400.0
    used = 100.0 * outage_s / budget_s if outage_s is not None and budget_s > 0 else None
    burn = (
        request_error_ratio / (1.0 - availability_target)
        if request_error_ratio is not None and availability_target < 1
        else None
    )
    target_txt = f"{availability_target * 100:g} %/{window_days:g} days"
    parts = []
    if outage_s is not None and used is not None:
        what = (
            f"this run's {outage_s:.1f} s of client-visible outage"
            if outage_s > 0
            else "this run had no client-visible outage and"
        )
        verb = "uses" if outage_s > 0 else "uses"
        parts.append(
            f"{what} {verb} {used:.2f} % of the {target_txt} error budget ({_duration(budget_s)})"
        )
    else:
        parts.append(
            f"no probes: client-visible outage unknown against the {target_txt} budget ({_duration(budget_s)})"
        )
    if burn is not None and request_error_ratio is not None:
        parts.append(
            f"its unavailable-request ratio {request_error_ratio * 100:.3f} % burns budget at {burn:.2f}x the sustainable rate"
        )
    sentence = "; ".join(parts)
    sentence = sentence[0].upper() + sentence[1:] + "."
    return ErrorBudget(
        availability_target=availability_target,
        window_days=window_days,
        budget_s=budget_s,
        outage_s=outage_s,
        budget_used_pct=used,
        request_error_ratio=request_error_ratio,
        burn_rate=burn,
        sentence=sentence,
    )

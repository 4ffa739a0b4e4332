"""The capacity report as a designed page: Jinja2 template `templates/capacity.html.j2`
(package data, autoescaped, strict about undefined names). The answers come first (replicas
for the target with headroom, HPA consistency, scale time, alerts such as "no headroom"), then
the evidence: knees with intervals, the fit, plots, every step with its generator and machine
figures, and how busy the machine was."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from slo import pages

_TITLES = {
    "latency": "Latency vs throughput",
    "usl": "Knees and the scaling law",
    "seed": "Predicted replicas for the spike",
    "local": "Local spike: predicted vs observed replicas",
}


def _n(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.0f}"


def _yesno(v: bool | None) -> str:
    return "n/a" if v is None else ("yes" if v else "NO")


def _knee_rows(report: Any) -> list[dict[str, Any]]:
    rows = []
    for r, k in report.knees.items():
        trials = ", ".join(
            _n(t.rps) + (" (generator-limited)" if t.generator_limited else "")
            + (" (busy machine)" if t.busy else "")
            for t in k.trials
        )  # fmt: skip
        out = [f"trial {t.trial}" for t in k.trials if not t.in_fit]
        rows.append(
            {
                "replicas": r,
                "rps": _n(k.rps),
                "interval": f"{_n(k.low)} - {'open' if k.high is None else _n(k.high)}",
                "per": _n(k.per_replica_rps),
                "trials": trials,
                "left_out": ", ".join(out) or "none",
            }
        )
    return rows


def _f(v: float | None, fmt: str) -> str:
    return "n/a" if v is None else format(v, fmt)


def _step_rows(report: Any) -> list[dict[str, Any]]:
    rows = []
    t = report.p95_target_ms
    for k in report.knees.values():
        for s in k.steps:
            r, ld = s.result, s.load
            why, gen, busy = s.failure(t), s.generator_limited(t), ld.busy()
            verdict = "held" if why is None else f"failed: {why}"
            verdict += f"; generator-limited: {gen}" if gen else ""
            verdict += f"; busy machine: {busy}" if busy else ""
            rows.append(
                {
                    "trial": s.trial, "replicas": r.replicas, "offered": _n(r.offered_rps),
                    "achieved": _n(r.achieved_rps), "p95": _f(r.p95_ms, ".1f"),
                    "late": "n/a" if ld.late_share is None else f"{ld.late_share:.1%}",
                    "cpu": _f(ld.generator_cpu, ".2f"), "runq": _f(ld.generator_runq, ".2f"),
                    "others": _f(ld.others_cores, ".2f"), "why": why, "limited": bool(gen),
                    "verdict": verdict,
                }
            )  # fmt: skip
    return rows


def _replicas_text(head: dict[str, Any]) -> str:
    """The page's big line."""
    target = f"{head['target_rps']:,.0f} req/s"
    n = head.get("replicas_usl")
    if n is not None:
        return f"{n} replicas for {target}"
    if head.get("replicas_linear_headroom"):
        return f"No replica count reaches {target} by the fitted law"
    return f"No answer for {target}"


def render_capacity(
    report: Any, usl: dict[str, Any], head: dict[str, Any], out: Path, images: dict[str, str]
) -> str:
    predictions = [
        {
            "peak": p.spike.peak_rps,
            "hold": f"{p.spike.hold_s:g}",
            "scale": "never" if p.scale_time_s is None else f"{p.scale_time_s:.0f} s",
        }
        for p in report.predictions
    ]
    imgs = [
        (
            _TITLES.get(key, key),
            "data:image/png;base64," + base64.b64encode((out / name).read_bytes()).decode(),
        )
        for key, name in images.items()
    ]
    local = None
    if report.local is not None:
        o = report.local.observed_scale_time
        pst = report.local.predicted_scale_time_s
        local = {
            "observed": f"{_f(o.scale_time_s, '.1f')} s ({o.reason})",
            "predicted": f"{_f(pst, '.1f')} s",
        }
    notes = report.answers.notes if report.answers else ()
    # "exactly maxReplicas" is the first alert already (head["alerts"])
    warnings = [n for n in notes if "exactly maxReplicas" not in n] + list(report.problems)
    return pages.render(
        "capacity.html.j2",
        title=f"Capacity report (profile {report.profile})",
        subtitle=f"Targets: p95 < {report.p95_target_ms:g} ms, errors < 1 %, "
        f"{report.target_rps:,.0f} req/s.",
        a=report.answers,
        head=head,
        replicas_text=_replicas_text(head),
        yesno=_yesno,
        usl=usl,
        predictions=predictions,
        knees=_knee_rows(report),
        steps=_step_rows(report),
        machine=report.run.get("machine_note", "not recorded"),
        images=imgs,
        local=local,
        warnings=warnings,
        problems=report.problems,
    )

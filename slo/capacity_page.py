"""The capacity report as a designed page: the answers first, then evidence (template
slo/templates/capacity.html.j2, rendered by slo.pages)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from slo import pages

_TITLES = {
    "latency": "Latency vs throughput",
    "seed": "Predicted replicas for the spike",
    "local": "Local spike: predicted vs observed replicas",
}


def _n(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.0f}"


def render_capacity(report: Any, usl: dict[str, Any], out: Path, images: dict[str, str]) -> str:
    a = report.answers
    warnings: list[str] = []
    if a is not None and a.hpa_replicas_for_target >= a.max_replicas:
        warnings.append(
            f"The HPA asks for {a.hpa_replicas_for_target} replicas at {a.target_rps:,.0f} "
            f"req/s, and maxReplicas is {a.max_replicas}: no headroom left."
        )
    warnings += list(report.problems)
    predictions = [
        {
            "peak": p.spike.peak_rps,
            "hold": f"{p.spike.hold_s:g}",
            "scale": "never (inconclusive)"
            if p.scale_time_s is None
            else f"{p.scale_time_s:.0f} s",
        }
        for p in report.predictions
    ]
    knees = [
        {
            "replicas": r,
            "rps": _n(k.rps),
            "per": _n(k.per_replica_rps),
            "why": k.why_next_failed or "no step failed (lower bound)",
        }
        for r, k in report.knees.items()
    ]
    imgs = [
        (
            _TITLES.get(key, key),
            "data:image/png;base64," + base64.b64encode((out / name).read_bytes()).decode(),
        )
        for key, name in images.items()
    ]
    return pages.render(
        "capacity.html.j2",
        title=f"Capacity report (profile {report.profile})",
        subtitle=f"Targets: p95 < {report.p95_target_ms:g} ms, errors < 1 %, "
        f"{report.target_rps:,.0f} req/s.",
        a=a,
        usl=usl,
        predictions=predictions,
        knees=knees,
        images=imgs,
        warnings=warnings,
        problems=report.problems,
    )

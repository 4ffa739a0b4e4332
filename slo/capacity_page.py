"""The capacity report as a designed page (slo/pages.py): the answers first, then evidence."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from slo import pages

CAPACITY = """{% extends "base.html" %}
{% block answer %}
<div class="answer{{ ' bad' if not a or warnings else '' }}">
{% if a %}
<div class="big">{{ a.replicas_needed }} replicas for {{ "{:,.0f}".format(a.target_rps) }} req/s</div>
<p>at the measured knee of {{ "{:,.0f}".format(a.knee_per_replica_rps) }} req/s per replica
(linear).{% if usl.fit %} The scaling law says
<b>{{ usl.replicas_for_target if usl.replicas_for_target is not none else "never" }}</b>
with {{ "{:.0%}".format(usl.headroom) }} headroom.{% endif %}</p>
<p>HPA: {{ a.hpa_replicas_for_target }} replicas at {{ "{:,.0f}".format(a.target_rps) }} req/s;
consistent with the knee: <b>{{ a.hpa_target_consistent }}</b>; maxReplicas {{ a.max_replicas }}
covers it: <b>{{ a.max_replicas_consistent }}</b>.</p>
{% for p in predictions %}<p>Predicted scale time, {{ "{:,.0f}".format(p.peak) }} req/s for
{{ p.hold }} s: <b>{{ p.scale }}</b></p>{% endfor %}
{% else %}
<div class="big">Inconclusive</div><p>No step held the targets, so there is no knee.</p>
{% endif %}
</div>
{% for w in warnings %}<div class="warn">{{ w }}</div>{% endfor %}
{% endblock %}
{% block evidence %}
<h2>Knee per replica count</h2>
<table><tr><th>replicas</th><th>knee req/s</th><th>per replica</th><th>next step failed because</th></tr>
{% for k in knees %}<tr><td class="num">{{ k.replicas }}</td><td class="num">{{ k.rps }}</td>
<td class="num">{{ k.per }}</td><td>{{ k.why }}</td></tr>{% endfor %}
</table>
<h2>Scaling law (USL)</h2>
{% if usl.fit %}<p>sigma (contention) {{ "%.4f"|format(usl.fit.sigma) }}, kappa (coherency)
{{ "%.5f"|format(usl.fit.kappa) }}, lambda {{ "{:,.0f}".format(usl.fit["lambda"]) }} req/s,
R<sup>2</sup> {{ "n/a" if usl.fit.r2 is none else "%.3f"|format(usl.fit.r2) }}
from {{ usl.fit.n_points }} point(s).</p>{% endif %}
{% for w in usl.warnings %}<div class="warn">{{ w }}</div>{% endfor %}
{% for name, src in images %}<h2>{{ name }}</h2><img alt="{{ name }}" src="{{ src }}">{% endfor %}
{% if problems %}<h2>Problems</h2><ul>{% for p in problems %}<li>{{ p }}</li>{% endfor %}</ul>{% endif %}
{% endblock %}
"""
pages.register("capacity.html", CAPACITY)

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
        "capacity.html",
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

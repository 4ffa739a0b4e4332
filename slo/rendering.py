"""`render(run_dir, results)`: write results.json, report.md, report.html and junit.xml.

The HTML is self-contained: plots are inline `data:image/png;base64` images and
the style is inline. Plots need per-second series and the raw ledger/events;
when `results` came from JSON (no series attached) they are recomputed from the
run folder. Files are written atomically (temp file + rename).
"""

from __future__ import annotations

import base64
import math
import os
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from slo import plots
from slo.measure_data import PresentSet
from slo.measure_load import aggregate_requests, run_phases
from slo.measure_scale import replicas_timeline
from slo.reports import _MARK, fmt_value, junit_xml, markdown
from slo.results import Results, Series
from slo.runfolder import RunData, load_json_file, load_run

REPORT_FILES = ("results.json", "report.md", "report.html", "junit.xml")

_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gameday: {{ r.run.name }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.pass{background:#dff5df}.fail{background:#f8d7d7}.inconclusive{background:#fff1c2}.not_applicable{color:#888}
.verdict{font-size:130%;padding:.5em;border-radius:4px}img{max-width:100%;display:block;margin:1em 0}
pre{background:#f6f6f6;padding:.5em;overflow:auto;font-size:85%}
</style></head><body>
<h1>Game day report: {{ r.run.name }}</h1>
<p class="verdict {{ r.verdict.status }}"><b>Verdict: {{ r.verdict.status|upper }}</b> (exit {{ r.verdict.exit_code }}): {{ r.verdict.summary }}</p>
<p>scenario <code>{{ r.run.scenario or '-' }}</code>, experiment <code>{{ r.run.experiment or '-' }}</code>,
profile <code>{{ r.run.profile or '-' }}</code>, target <code>{{ r.run.target or '-' }}</code>, expect <code>{{ r.run.expect }}</code></p>
<h2>SLOs</h2>
<table><tr><th>SLO</th><th>threshold</th><th>measured</th><th>verdict</th><th>evidence</th></tr>
{% for s in r.slos %}<tr class="{{ s.status }}"><td>{{ s.title }}</td><td><code>{{ s.threshold }}</code></td>
<td>{{ fmt(s) }}</td><td>{{ mark[s.status] }}</td><td>{{ s.message }}</td></tr>
{% endfor %}</table>
{% if r.measurements.error_budget %}<h2>Error budget</h2><p>{{ r.measurements.error_budget.sentence }}</p>{% endif %}
<h2>Plots</h2>
{% for title, png in images %}{% if png %}<img alt="{{ title }}" src="data:image/png;base64,{{ png }}">
{% else %}<p><i>{{ title }}: no data</i></p>{% endif %}{% endfor %}
<h2>Details</h2>
<pre>{{ md }}</pre>
</body></html>
"""


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _series(results: Results, data: RunData) -> Series:
    if results._series is not None:
        return results._series
    if not data.requests:
        return Series()
    phases = run_phases(data.events, data.run, results.measurements.fault)
    return aggregate_requests(data.requests, phases, 1).series


def replicas_from_metrics(run_dir: Path) -> dict[str, list[tuple[float, int]]]:
    """API replicas up per region as Prometheus scraped them (metrics.json), when recorded.

    A bare NaN/Infinity in the file is bad input (InputError); Prometheus's own "NaN"
    sample strings (a gap) are left out of the plot."""
    path = run_dir / "metrics.json"
    if not path.is_file():
        return {}
    doc = load_json_file(path)
    try:
        series = doc["queries"]["api_replicas_up_by_region"]["result"]
        out: dict[str, list[tuple[float, int]]] = {}
        for s in series:
            region = str(s.get("metric", {}).get("region", "?"))
            points = [(float(t), float(v)) for t, v in s.get("values", [])]
            out[region] = [(t, int(v)) for t, v in points if math.isfinite(t) and math.isfinite(v)]
    except (KeyError, TypeError, ValueError, AttributeError):
        return {}  # an older or partial metrics.json: the plot falls back to events
    return out


def _replicas_plot(
    data: RunData, fault: Any, t0: float, t_end: float
) -> tuple[str, bytes | None]:
    scraped = replicas_from_metrics(data.run_dir)
    if scraped:
        source = "API replicas up, as Prometheus scraped them"
        return ("replicas per region", plots.replicas_over_time(scraped, fault, t0, t_end, source))
    source = "from replica.ready / replica.stopped events"
    return (
        "replicas per region",
        plots.replicas_over_time(replicas_timeline(data.events), fault, t0, t_end, source),
    )


def _plots(results: Results, data: RunData) -> list[tuple[str, str | None]]:
    m = results.measurements
    series = _series(results, data)
    t0 = results.run.started_wall
    if t0 is None:
        candidates = [float(series.t[0])] if series.t else []
        candidates += [e.t_wall for e in data.events[:1]]
        t0 = min(candidates) if candidates else 0.0
    t_end = results.run.ended_wall or (float(series.t[-1] + 1) if series.t else t0)
    if data.events:
        t_end = max(t_end, data.events[-1].t_wall)
    lat = next((s for s in results.slos if s.id == "latency.baseline.p95"), None)
    p95_target = None
    if lat is not None:
        from slo.thresholds import parse_threshold

        p95_target = parse_threshold(lat.threshold).value * 1000
    failover_t = next((s for s in results.slos if s.id == "failover"), None)
    lost: set[int] = set()
    if data.ledger and data.readback:
        present = PresentSet(data.readback.present_ranges)
        lost = {e.seq for e in data.ledger if e.outcome == "acknowledged" and e.seq not in present}
    out = [
        ("latency percentiles over time", plots.latency_over_time(series, m.fault, t0, p95_target)),
        ("throughput and errors over time", plots.throughput_over_time(series, m.fault, t0)),
        _replicas_plot(data, m.fault, t0, t_end),
        (
            "failover timeline",
            plots.failover_timeline(
                m.failover_timeline,
                _threshold_s(failover_t.threshold) if failover_t is not None else None,
            ),
        ),
        (
            "acknowledged vs lost writes",
            plots.writes_over_time(data.ledger or [], data.readback, lost, t0),
        ),
    ]
    return [(title, base64.b64encode(png).decode("ascii") if png else None) for title, png in out]


def _threshold_s(text: str) -> float | None:
    from slo.thresholds import parse_threshold

    value = parse_threshold(text).value
    return value if math.isfinite(value) else None


def render(run_dir: Path, results: Results) -> list[Path]:
    """Write the four report files into `run_dir`; return their paths."""
    run_dir = Path(run_dir)
    data = results._data
    if data is None or (results._series is None and data.requests is None):
        data = load_run(run_dir, with_requests=results._series is None)
    md = markdown(results)
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(_HTML).render(
        r=results, images=_plots(results, data), md=md, fmt=fmt_value, mark=_MARK
    )
    paths = [run_dir / name for name in REPORT_FILES]
    for path, text in zip(
        paths, (results.to_json() + "\n", md, html, junit_xml(results)), strict=True
    ):
        _write(path, text)
    return paths

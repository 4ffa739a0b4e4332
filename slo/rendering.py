"""`render(run_dir, results)`: write results.json, report.md, report.html and junit.xml.

The HTML is self-contained: plots are inline `data:image/png;base64` images and
the style is inline (slo/pages.py, template slo/templates/run.html.j2). Plots need per-second
series and the raw ledger/events;
when `results` came from JSON (no series attached) they are recomputed from the
run folder. Files are written atomically (temp file + rename).
"""

from __future__ import annotations

import base64
import math
import os
from pathlib import Path
from typing import Any

from bedrock.runfolder import metrics as metrics_file
from bedrock.runfolder import reports as reports_file
from slo import plots
from slo.measure_data import PresentSet
from slo.measure_load import aggregate_requests, run_phases
from slo.measure_scale import replicas_timeline
from slo.pages import render_html
from slo.reports import _MARK, fmt_value, junit_xml, markdown
from slo.results import Results, Series
from slo.runfolder import RunData, load_run

REPORT_FILES = reports_file.FILES


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
    doc = metrics_file.read_metrics(run_dir)
    if doc is None:
        return {}
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


def _replicas_plot(data: RunData, fault: Any, t0: float, t_end: float) -> tuple[str, bytes | None]:
    scraped = replicas_from_metrics(data.run_dir)
    if scraped:
        source = "API replicas up, as Prometheus scraped them"
        return ("replicas per region", plots.replicas_over_time(scraped, fault, t0, t_end, source))
    source = "from replica.ready / replica.stopped events"
    return (
        "replicas per region",
        plots.replicas_over_time(replicas_timeline(data.events), fault, t0, t_end, source),
    )


def _start_end(results: Results, data: RunData, series: Series) -> tuple[float, float]:
    t0 = results.run.started_wall
    if t0 is None:
        candidates = [float(series.t[0])] if series.t else []
        candidates += [e.t_wall for e in data.events[:1]]
        t0 = min(candidates) if candidates else 0.0
    t_end = results.run.ended_wall or (float(series.t[-1] + 1) if series.t else t0)
    if data.events:
        t_end = max(t_end, data.events[-1].t_wall)
    return t0, t_end


def p95_target_ms(results: Results) -> float | None:
    """The baseline p95 SLO's threshold in ms (the line on the latency plots), if any."""
    lat = next((s for s in results.slos if s.id == "latency.baseline.p95"), None)
    value = _threshold_s(lat.threshold) if lat is not None else None
    return value * 1000 if value is not None else None


def _plots(
    results: Results, data: RunData, series: Series
) -> list[tuple[str, str | None]]:
    m = results.measurements
    t0, t_end = _start_end(results, data, series)
    lost: set[int] = set()
    if data.ledger and data.readback:
        present = PresentSet(data.readback.present_ranges)
        lost = {e.seq for e in data.ledger if e.outcome == "acknowledged" and e.seq not in present}
    out = [
        (
            "latency percentiles over time",
            plots.latency_over_time(series, m.fault, t0, p95_target_ms(results)),
        ),
        ("throughput and errors over time", plots.throughput_over_time(series, m.fault, t0)),
        _replicas_plot(data, m.fault, t0, t_end),
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
    series = _series(results, data)
    images = _plots(results, data, series)
    html = render_html(results, images, fmt_value, _MARK, series, p95_target_ms(results))
    return reports_file.write_reports(run_dir, results.to_json(), md, html, junit_xml(results))

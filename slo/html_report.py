"""report.html as a designed page (Jinja2 template `templates/run.html.j2`, shipped as package data).

Verdict first with its reason, the SLO table, the failover timeline (fault, detection,
traffic switch, promotion, recovery on one axis, an inline SVG) above the plots
(latency and errors beneath), writes acknowledged vs lost, the run's environment.
No markdown dump: report.md stays beside it for terminals and diffs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from bedrock.errors import GamedayError
from bedrock.runfolder import run as run_file
from slo.results import Results, SloResult

_ENV = Environment(
    loader=PackageLoader("slo", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
COLORS = ["#d62728", "#ff7f0e", "#1f77b4", "#9467bd", "#2ca02c", "#8c564b", "#17becf"]


def timeline_bars(results: Results, width: float = 900.0) -> dict[str, Any]:
    """The failover phases as SVG bars on one axis (seconds after the fault)."""
    spans = results.measurements.failover_timeline
    if not spans:
        return {"bars": [], "end_s": 0.0, "width": width}
    start = min(0.0, *(s.start_s for s in spans))
    end = max(max(s.end_s for s in spans), start + 1.0)
    scale = (width - 200.0) / (end - start)
    bars = [
        {
            "name": s.name,
            "x": 190.0 + (s.start_s - start) * scale,
            "w": max((s.end_s - s.start_s) * scale, 2.0),
            "y": 10 + i * 22,
            "label": f"{s.start_s:+.1f} .. {s.end_s:+.1f} s",
            "color": COLORS[i % len(COLORS)],
        }
        for i, s in enumerate(spans)
    ]
    return {"bars": bars, "end_s": end, "start_s": start, "width": width}


def environment(run_dir: Path) -> dict[str, Any]:
    try:
        run = run_file.read_run(run_dir)
    except GamedayError:
        return {}
    return {"versions": run.get("versions") or {}, "windows_s": run.get("windows_s") or {}}


def render_html(
    results: Results,
    images: list[tuple[str, str | None]],
    fmt: Callable[[SloResult], str],
    mark: dict[str, str],
) -> str:
    failing = [s for s in results.slos if s.status in ("fail", "inconclusive")]
    return _ENV.get_template("run.html.j2").render(
        r=results,
        images=images,
        fmt=fmt,
        mark=mark,
        failing=failing,
        timeline=timeline_bars(results),
        env=environment(Path(results.run.run_dir)),
        data=results.measurements.data,
    )

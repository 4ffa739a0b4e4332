"""Every HTML page gameday writes, through ONE Jinja2 environment and one layout.

The templates live in slo/templates/ (package data): `base.html.j2` is the layout every page
extends (run report, trials group, suite summary, capacity, trend, the live view's shell).
Autoescape is on for every template and undefined names are errors, so a page never carries
unescaped input and never silently drops a field. No page is built by string concatenation.

`render(template, **context)` renders any page; `render_html` is the run report (report.html).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from bedrock.errors import GamedayError
from bedrock.runfolder import run as run_file
from slo.results import Results, Series, SloResult
from slo.timeline import timeline_figure


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("slo", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, /, **context: Any) -> str:
    """Render the page `template` (slo/templates/) with `context`."""
    context.setdefault("subtitle", "")
    return environment().get_template(template).render(**context)


def write_page(path: Path, text: str) -> Path:
    """Write a page atomically (temp file + rename): a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def run_environment(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The versions and windows run.json recorded (empty when it is missing or unreadable)."""
    try:
        run = run_file.read_run(run_dir)
    except GamedayError:
        run = {}
    if not isinstance(run, dict):
        run = {}
    return {
        "versions": dict(run.get("versions") or {}),
        "windows_s": dict(run.get("windows_s") or {}),
    }


def render_html(
    results: Results,
    images: list[tuple[str, str | None]],
    fmt: Callable[[SloResult], str],
    mark: dict[str, str],
    series: Series | None = None,
    p95_target_ms: float | None = None,
) -> str:
    """report.html of one run: verdict, SLOs, the shared-axis timeline, plots, writes."""
    failing = [s for s in results.slos if s.status in ("fail", "inconclusive")]
    return render(
        "run.html.j2",
        title=f"gameday: {results.run.name}",
        r=results,
        images=images,
        fmt=fmt,
        mark=mark,
        failing=failing,
        timeline=timeline_figure(results, series or Series(), p95_target_ms),
        env=run_environment(Path(results.run.run_dir)),
        data=results.measurements.data,
    )


def live_shell() -> str:
    """The live view's page (gameday/live serves it; live.js fills it from /events)."""
    return render("live.html.j2", title="gameday live")

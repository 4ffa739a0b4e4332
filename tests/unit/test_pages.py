"""The one template system and the figures' geometry, against known inputs: scales and gaps,
the timeline's shared axis (the fault at 0, one point per second for latency and errors), and
autoescaping of every value a page shows."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from slo import pages, svg
from slo.evaluation import evaluate
from slo.measure_load import aggregate_requests, run_phases
from slo.reports import _MARK, fmt_value
from slo.runfolder import load_run
from slo.suite_page import suite_html
from slo.timeline import timeline_figure
from tests.support.slo_synth import T0_WALL, write_run


def test_scales_ticks_and_gaps() -> None:
    x = svg.Scale(0.0, 10.0, 100.0, 200.0)
    assert (x(0.0), x(5.0), x(10.0)) == (100.0, 150.0, 200.0)
    y = svg.Scale(1.0, 1000.0, 300.0, 0.0, log=True)  # decades, y grows downwards
    assert (y(1.0), y(10.0), y(1000.0)) == (300.0, 200.0, 0.0)
    assert y(0.0) == 300.0  # below the axis: pinned to its floor, never log(0)
    assert svg.ticks(-20.0, 40.0, 6) == [-20.0, -10.0, 0.0, 10.0, 20.0, 30.0, 40.0]
    assert svg.decades(3.2, 480.0) == (1.0, 1000.0)
    lines = svg.segments([0, 1, 2, 3, 4], [1.0, 2.0, None, math.nan, 4.0], x, x)
    assert lines == ["100.0,110.0 110.0,120.0", "140.0,140.0"]  # a gap is not drawn as 0
    scale = svg.value_scale([None, 3.0, 7.5], 0.0, 100.0)
    assert (scale.lo, scale.hi) == (0.0, 8.0)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    run_dir = tmp_path_factory.mktemp("timeline")
    write_run(run_dir, duration_s=40, fault_at_s=10.0, rollback_at_s=25.0, rps=150, lost=0)
    results = evaluate(run_dir)
    data = load_run(run_dir)
    phases = run_phases(data.events, data.run, results.measurements.fault)
    series = aggregate_requests(data.requests or [], phases, 1).series
    return run_dir, results, series


def test_timeline_shares_one_axis_from_the_fault(run) -> None:
    _, results, series = run
    fig = timeline_figure(results, series, 100.0)
    assert fig is not None and fig.x_label == "seconds after the fault"
    markers = {m.name: m for m in fig.markers}
    # the synthetic run starts at T0_WALL, the fault 10 s in: the axis runs -10 .. +30 s
    first, last = series.t[0] - (T0_WALL + 10.0), series.t[-1] + 1 - (T0_WALL + 10.0)
    x = svg.Scale(min(first, 0.0), last, fig.left, fig.right)
    assert markers["fault"].x == x(0.0)
    assert markers["rollback"].x == x(15.0)
    assert markers["rto"].x == x(results.measurements.rto.value_s)
    lanes = {lane.name: lane for lane in fig.lanes}
    assert lanes["detection"].x == x(0.0) and lanes["detection"].w == x(3.0) - x(0.0)
    latency, errors = fig.panels
    assert (latency.key, errors.key) == ("latency", "errors")
    lat = [p.split(",") for line in latency.lines for p in line.split()]
    err = [p.split(",") for line in errors.lines for p in line.split()]
    assert len(lat) == sum(v is not None for v in series.p95_ms) == len(series.t)
    assert len(err) == len(series.t)
    assert float(lat[0][0]) == x(first)  # the same second at the same x in both panels
    assert float(err[0][0]) == x(first + 0.5)  # an error bar's centre
    assert latency.top + latency.height < errors.top  # errors beneath latency
    assert latency.target is not None and latency.target[1] == "p95 target 100 ms"


def test_every_value_is_escaped(run, tmp_path: Path) -> None:
    run_dir, results, series = run
    hostile = "<script>alert(1)</script>"
    named = results.model_copy(deep=True)
    named.run.name = hostile
    named.slos[0].message = hostile
    html = pages.render_html(named, [(hostile, None)], fmt_value, _MARK, series)
    assert hostile not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    row = {"name": hostile, "scenario": hostile, "code": 1, "summary": hostile,
           "run_dir": str(run_dir)}  # fmt: skip
    page = suite_html(tmp_path, hostile, [row], 60.0, "FAIL")
    assert hostile not in page and not re.search(r"<script", page)
    assert 'href="' in page and "report.html" in page


def test_suite_rows_say_bad_data_and_link_what_is_missing(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.json").write_text('{"slos": [{"id": "failover", "value": NaN}]}')
    rows = [
        {"name": "broken", "scenario": "c", "code": 3, "summary": "s", "run_dir": str(broken)},
        {"name": "skipped", "scenario": "c", "code": 3, "summary": "s", "run_dir": None},
    ]
    page = suite_html(tmp_path / "suite", "n", rows, 60.0, "INCONCLUSIVE")
    assert page.count("<td>bad data</td>") == 4  # failover, RTO, lost writes, p95
    assert 'href="../broken/report.html"' in page
    assert "no run measured failover" in page  # no figure: no plot drawn from nothing

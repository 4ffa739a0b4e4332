"""The designed pages in headless chromium, from synthetic run folders with known truth: the run
report's timeline (failover steps, p95 and errors per second on one shared axis), a trials
group's distributions (failing trial linked), and the suite summary (plots per run, every run
linked). No stack: the folders are written by tests/support/slo_synth.py. Screenshots go in the
test's tmp folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.summary import write_summary
from slo.evaluation import evaluate
from slo.rendering import render
from slo.trials import Trial, trials_doc
from slo.trials_render import read_results, write_group
from tests.support.slo_synth import write_run

pytestmark = pytest.mark.integration

# trial 2 loses 30 acknowledged writes after the fault: it fails, the group fails
TRIALS = (
    {"outage_s": 4.0},
    {"outage_s": 6.0, "lost_after_fault": 30, "failback_leader_at_s": 24.0},
)
TRIALS += ({"outage_s": 5.0},)


def _run(run_dir: Path, **knobs: object) -> Trial:
    write_run(run_dir, duration_s=40, fault_at_s=10.0, rollback_at_s=25.0, rps=150, lost=0, **knobs)  # type: ignore[arg-type]
    results = evaluate(run_dir)
    render(run_dir, results)
    v = results.verdict
    return Trial(0, str(run_dir), v.exit_code, v.summary, read_results(run_dir))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pages")
    single = root / "runs" / "kill-region"
    _run(single, outage_s=7.0)
    group = root / "runs" / "kill-region-x3"
    trials = []
    for n, knobs in enumerate(TRIALS, 1):
        t = _run(group / f"trial{n}", **knobs)
        trials.append(Trial(n, t.run_dir, t.exit_code, t.summary, t.results))
    write_group(group, trials_doc("kill-region", {"trials": 3}, trials))
    rows = [
        {"name": "kill-region", "scenario": "constant", "code": 0, "summary": "held",
         "run_dir": str(single)},
        {"name": "kill-region x3", "scenario": "constant", "code": 1, "summary": "failed",
         "run_dir": str(group)},
        {"name": "kill-db", "scenario": "constant", "code": 3, "summary": "skipped",
         "run_dir": None},
    ]  # fmt: skip
    write_summary(root / "suite", "nightly", rows, 300.0, 1)
    return {"single": single, "group": group, "suite": root / "suite"}


def _points(el: object) -> list[tuple[float, float]]:
    text = el.get_attribute("points") or ""  # type: ignore[attr-defined]
    return [(float(a), float(b)) for a, b in (p.split(",") for p in text.split())]


def test_timeline_puts_steps_latency_and_errors_on_one_axis(browser, folders, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    browser.get((folders["single"] / "report.html").as_uri())
    svg = browser.find_element(By.ID, "timeline")
    assert svg.rect["height"] > 200 and svg.rect["width"] > 600
    lanes = [g.get_attribute("data-lane") for g in svg.find_elements(By.CSS_SELECTOR, "g.lane")]
    assert lanes[:3] == ["detection", "traffic switch", "database promotion"]
    assert "client-visible failover" in lanes
    markers = {
        m.get_attribute("data-marker"): m for m in svg.find_elements(By.CSS_SELECTOR, "g.marker")
    }
    assert {"fault", "rollback", "failover", "rto"} <= set(markers)
    latency = svg.find_elements(By.CSS_SELECTOR, "g[data-panel=latency] polyline.series")
    errors = svg.find_elements(By.CSS_SELECTOR, "g[data-panel=errors] polyline.series")
    assert latency and errors, "the timeline has no latency or no errors line"
    lat = [p for line in latency for p in _points(line)]
    err = [p for e in errors for p in _points(e)]
    assert len(lat) >= 35 and len(err) >= 35  # one point per second of the 40 s run
    # the same axis: both series span the same seconds, left to right
    assert abs(min(x for x, _ in lat) - min(x for x, _ in err)) < 12
    assert abs(max(x for x, _ in lat) - max(x for x, _ in err)) < 12
    # the fault marker sits at t = 0 of that axis: the latency jumps after it (synthetic
    # medians 5 ms baseline, 30 ms under the fault; y grows downwards)
    fault_x = float(markers["fault"].find_element(By.TAG_NAME, "line").get_attribute("x1"))
    before = [y for x, y in lat if x < fault_x - 10]
    during = [y for x, y in lat if fault_x + 10 < x < fault_x + 100]
    assert before and during and min(before) > max(during)
    # the latency panel sits above the errors panel, which sits above the axis labels
    lat_box = svg.find_element(By.CSS_SELECTOR, "g[data-panel=latency]").rect
    err_box = svg.find_element(By.CSS_SELECTOR, "g[data-panel=errors]").rect
    assert lat_box["y"] + lat_box["height"] <= err_box["y"] + 1
    assert browser.find_element(By.ID, "verdict").text.startswith("PASS")
    for img in browser.find_elements(By.CSS_SELECTOR, "img.plot"):
        assert browser.execute_script("return arguments[0].naturalWidth", img) > 0
    browser.execute_script("arguments[0].scrollIntoView()", svg)
    browser.save_screenshot(str(tmp_path / "report-timeline.png"))


def test_trial_distributions_render_and_link_the_failing_trial(browser, folders, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    browser.get((folders["group"] / "report.html").as_uri())
    assert browser.find_element(By.ID, "verdict").text.startswith("FAIL")
    rows = {
        r.get_attribute("data-figure"): r
        for r in browser.find_elements(By.CSS_SELECTOR, "#distributions tr.figure")
    }
    assert {"failover_s", "rto_s", "lost_writes"} <= set(rows)
    lost = rows["lost_writes"]
    cells = [c.text for c in lost.find_elements(By.CSS_SELECTOR, "td.num")]
    assert cells == ["0", "30", "0", "0", "30"]  # each trial, median, max
    dots = lost.find_elements(By.CSS_SELECTOR, "svg.strip circle.dot")
    assert len(dots) == 3 and all(d.rect["width"] > 0 for d in dots)
    bad = lost.find_elements(By.CSS_SELECTOR, "svg.strip a circle.bad")
    assert len(bad) == 1
    failover_dots = rows["failover_s"].find_elements(By.CSS_SELECTOR, "circle.dot")
    xs = [float(d.get_attribute("cx")) for d in failover_dots]
    assert xs[0] < xs[2] < xs[1]  # outages of 4, 6 and 5 s
    link = browser.find_element(By.CSS_SELECTOR, "#verdict a.failing-trial")
    assert link.text == "trial 2"
    link.click()
    assert browser.current_url.endswith("trial2/report.html")
    assert browser.find_element(By.ID, "verdict").text.startswith("FAIL")
    browser.back()
    browser.save_screenshot(str(tmp_path / "trials.png"))


def test_suite_summary_plots_per_run_and_links_every_run(browser, folders, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    browser.get((folders["suite"] / "summary.html").as_uri())
    assert browser.find_element(By.ID, "suite-verdict").text == "FAIL"
    plots = {
        f.get_attribute("data-figure"): f
        for f in browser.find_elements(By.CSS_SELECTOR, "figure.suite-plot")
    }
    assert {"failover_s", "rto_s", "lost_writes", "p95_fault_ms"} <= set(plots)
    failover = plots["failover_s"]
    assert [t.text for t in failover.find_elements(By.CSS_SELECTOR, "g.lane > a text")] == [
        "kill-region",
        "kill-region x3",
    ]
    assert len(failover.find_elements(By.CSS_SELECTOR, "circle.dot")) == 1 + 3
    assert all(b.rect["width"] > 0 for b in failover.find_elements(By.CSS_SELECTOR, "rect.bar"))
    runs = browser.find_elements(By.CSS_SELECTOR, "#runs tr.run")
    assert len(runs) == 3
    reports = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.report")]
    assert [h.rsplit("/", 2)[-2] for h in reports] == ["kill-region", "kill-region-x3"]
    trials = browser.find_elements(By.CSS_SELECTOR, "#runs a.trial")
    assert [a.text for a in trials] == ["trial 1", "trial 2", "trial 3"]
    assert "lost acknowledged writes" in runs[1].text  # the failing SLO of the group
    assert "median" in runs[1].text
    browser.save_screenshot(str(tmp_path / "suite.png"))
    trials[1].click()
    assert browser.find_element(By.ID, "verdict").text.startswith("FAIL")

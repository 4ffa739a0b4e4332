"""`gameday trend` over synthetic run folders with known figures, drawn in headless chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.cli import main
from slo.evaluation import evaluate
from slo.rendering import render
from tests.support.slo_synth import write_run

pytestmark = pytest.mark.integration


def _synth(runs: Path, i: int, outage_s: float, lost: int) -> None:
    run_dir = runs / f"2026120{i}T000000Z-kill-region"
    write_run(run_dir, outage_s=outage_s, lost=lost, lost_after_fault=lost, seed=i)
    render(run_dir, evaluate(run_dir))
    doc = json.loads((run_dir / "results.json").read_text())
    doc["run"]["started_wall"] += i * 86400.0  # one a night
    (run_dir / "results.json").write_text(json.dumps(doc))


def test_trend_page_draws_three_runs_and_flags_the_regression(
    browser, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from selenium.webdriver.common.by import By

    runs = tmp_path / "runs"
    for i, (outage, lost) in enumerate([(5.0, 0), (5.5, 0), (14.0, 9)], 1):
        _synth(runs, i, outage, lost)
    out = tmp_path / "trend.html"
    assert main(["trend", "--runs-dir", str(runs), "--out", str(out)]) == 0
    assert "3 runs in the history" in capsys.readouterr().out
    browser.get(out.as_uri())
    experiments = browser.find_elements(By.CSS_SELECTOR, "h3.experiment")
    assert [e.text.split()[0] for e in experiments] == ["kill-region"]
    figures = browser.find_elements(By.CSS_SELECTOR, "figure.series")
    metrics = [f.get_attribute("data-metric") for f in figures]
    assert metrics == ["failover_s", "rto_s", "lost", "p95_ms", "verdict"]
    for f in figures:
        points = f.find_element(By.TAG_NAME, "polyline").get_attribute("points") or ""
        if f.get_attribute("data-metric") in ("failover_s", "lost", "verdict"):
            assert len(points.split()) == 3, (f.get_attribute("data-metric"), points)
        box = f.find_element(By.TAG_NAME, "svg").rect
        assert box["width"] > 100 and box["height"] > 40
    flagged = {
        f.get_attribute("data-metric")
        for f in figures
        if "regressed" in (f.get_attribute("class") or "")
    }
    assert {"failover_s", "lost"} <= flagged
    assert "regression: kill-region lost writes" in browser.find_element(By.ID, "regressions").text
    browser.save_screenshot(str(tmp_path / "trend.png"))
    # the store is beside the runs folder and idempotent: a second pass adds nothing
    assert (tmp_path / "gameday-history.sqlite").exists()
    assert main(["trend", "--runs-dir", str(runs), "--out", str(out)]) == 0
    assert "3 runs in the history" in capsys.readouterr().out

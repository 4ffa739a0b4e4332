"""Trials: distributions of each figure and the group verdict ("failed in k of N trials"),
from real Results of synthetic run folders with known truth; the suite's `trials:` key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bedrock.errors import ConfigError
from gameday.plan import load_suite
from gameday.summary import key_figures
from gameday.trials import table_lines
from slo.evaluation import evaluate
from slo.rendering import render
from slo.trials import Trial, distribution, trials_doc
from slo.trials_render import read_results, write_group
from tests.support.slo_synth import write_run


def _trial(tmp: Path, number: int, **knobs: object) -> Trial:
    run_dir = tmp / f"trial{number}"
    write_run(run_dir, duration_s=40, fault_at_s=10.0, rollback_at_s=25.0, rps=150, **knobs)  # type: ignore[arg-type]
    results = evaluate(run_dir)
    render(run_dir, results)
    v = results.verdict
    return Trial(number, str(run_dir), v.exit_code, v.summary, read_results(run_dir))


def test_distribution_of_measured_values() -> None:
    d = distribution([3.0, None, 1.0, 2.0])
    assert d == {"values": [3.0, None, 1.0, 2.0], "measured": 3, "median": 2.0, "max": 3.0}
    assert distribution([None])["median"] is None


def test_one_failing_trial_fails_the_group_and_names_it(tmp_path: Path) -> None:
    trials = [
        _trial(tmp_path, 1, outage_s=4.0, lost=0),
        _trial(tmp_path, 2, outage_s=6.0, lost=0, lost_after_fault=30, failback_leader_at_s=24.0),
        _trial(tmp_path, 3, outage_s=5.0, lost=0),
    ]
    assert [t.exit_code for t in trials] == [0, 1, 0], [t.summary for t in trials]
    doc = trials_doc("kill-region", {"trials": 3}, trials)
    v = doc["verdict"]
    assert v["status"] == "fail" and v["exit_code"] == 1
    assert v["summary"].startswith("failed in 1 of 3 trials: trial 2: 30 acknowledged writes lost")
    assert v["summary"].endswith(f"; see {tmp_path / 'trial2'}")
    lost = doc["figures"]["lost_writes"]
    assert lost["values"] == [0.0, 30.0, 0.0] and lost["median"] == 0.0 and lost["max"] == 30.0
    failover = doc["figures"]["failover_s"]
    # synthetic outages of 4, 6 and 5 s: failover is measured to within the probe interval
    assert failover["values"] == pytest.approx([4.0, 6.0, 5.0], abs=0.06)
    assert failover["median"] == pytest.approx(5.0, abs=0.06)
    assert failover["max"] == pytest.approx(6.0, abs=0.06)

    group = tmp_path / "group"
    group.mkdir()
    write_group(group, doc)
    saved = json.loads((group / "results.json").read_text())
    assert saved["schema"] == "gameday.trials/1" and saved["verdict"] == v
    assert "failed in 1 of 3 trials" in (group / "report.md").read_text()
    assert (group / "junit.xml").read_text().count("<testsuite ") == 3
    figures = key_figures(str(group))
    assert figures["lost"] == "0 median, max 30 (0/30/0)"
    assert figures["failover"].startswith("5.0 s median, max 6.0 s")
    lines = table_lines(doc)
    assert lines[1].split()[:5] == ["FIGURE", "T1", "T2", "T3", "MEDIAN"]


def test_report_rejudges_a_group_and_compare_refuses_it(tmp_path: Path) -> None:
    trials = [_trial(tmp_path, 1, lost=0), _trial(tmp_path, 2, lost=0)]
    group = tmp_path / "group"
    group.mkdir()
    write_group(group, trials_doc("kill-region", {}, trials))
    assert json.loads((group / "results.json").read_text())["verdict"]["exit_code"] == 0
    # a stricter spec, re-judged over every trial folder: both fail, the group fails
    spec = tmp_path / "strict.yaml"
    spec.write_text("failover: failover < 1s\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gameday", "report", str(group), "--spec", str(spec)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        "verdict: fail (exit 1): failed in 2 of 2 trials: trial 1: failed: failover" in proc.stdout
    )
    assert json.loads((group / "results.json").read_text())["verdict"]["exit_code"] == 1
    proc = subprocess.run(
        [sys.executable, "-m", "gameday", "compare", str(group), str(tmp_path / "trial1")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "a trials group" in proc.stderr


def test_all_passing_trials_pass(tmp_path: Path) -> None:
    trials = [_trial(tmp_path, i, lost=0) for i in (1, 2)]
    doc = trials_doc("kill-region", {}, trials)
    assert doc["verdict"] == {"status": "pass", "exit_code": 0, "summary": "held in all 2 trials"}


def test_an_inconclusive_trial_makes_the_group_inconclusive(tmp_path: Path) -> None:
    trials = [_trial(tmp_path, 1, lost=0), _trial(tmp_path, 2, lost=0, ledger=False)]
    assert trials[1].exit_code == 3
    v = trials_doc("x", {}, trials)["verdict"]
    assert (v["status"], v["exit_code"]) == ("inconclusive", 3)
    assert v["summary"].startswith("inconclusive in 1 of 2 trials")


def test_suite_trials_key(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: t\nprofile: ci\nruns:\n  - {experiment: kill-region, load: constant, trials: 3}\n"
        "  - {experiment: none, load: stress}\n"
    )
    _, plans = load_suite(suite)
    assert [p.trials for p in plans] == [3, 1]
    suite.write_text("runs:\n  - {experiment: kill-region, trials: 0}\n")
    with pytest.raises(ConfigError, match="runs.0.trials"):
        load_suite(suite)


def test_the_nightly_suite_repeats_the_region_losses() -> None:
    _, plans = load_suite(Path(__file__).resolve().parents[2] / "experiments/suites/nightly.yaml")
    trials = {p.name: p.trials for p in plans}
    assert trials["kill-region"] >= 3 and trials["freeze-region"] >= 3

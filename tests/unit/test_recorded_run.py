"""A run folder recorded before the run-folder records moved (a real kill-region run on
the main of 2026-12-04, tests/support/fixtures/README.md) still reports, with the same
verdict and the same figures: the run-folder contract did not change under it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / "tests" / "support" / "fixtures" / "run-2026-12-04-kill-region"


@pytest.fixture(scope="module")
def reported(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    run_dir = tmp_path_factory.mktemp("recorded") / RECORDED.name
    shutil.copytree(RECORDED, run_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "gameday", "report", str(run_dir)],
        cwd=run_dir.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, run_dir


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_recorded_run_reports_with_the_recorded_verdict(reported) -> None:
    proc, run_dir = reported
    recorded = _load(RECORDED / "results.recorded.json")
    assert proc.returncode == recorded["verdict"]["exit_code"] == 0, proc.stdout + proc.stderr
    assert "verdict: pass (exit 0): all 10 SLOs held" in proc.stdout
    now = _load(run_dir / "results.json")
    assert now["verdict"] == recorded["verdict"]
    for name in ("report.md", "report.html", "junit.xml"):
        assert (run_dir / name).stat().st_size > 0, name


def test_every_slo_and_figure_is_the_recorded_one(reported) -> None:
    _, run_dir = reported
    recorded = _load(RECORDED / "results.recorded.json")
    now = _load(run_dir / "results.json")
    assert now["slos"] == recorded["slos"]
    assert now["measurements"] == recorded["measurements"]
    assert now["spec"] == recorded["spec"]
    # only where the folder lies and when it was reported may differ
    assert {k: v for k, v in now["run"].items() if k != "run_dir"} == {
        k: v for k, v in recorded["run"].items() if k != "run_dir"
    }


def test_the_recorded_figures_are_the_real_ones() -> None:
    """The fixture is a real failover, not an empty folder that passes for want of data."""
    recorded = _load(RECORDED / "results.recorded.json")
    by_id = {s["id"]: s for s in recorded["slos"]}
    assert by_id["failover"]["status"] == "pass"
    assert 0 < by_id["failover"]["value"] < 30
    assert by_id["durability"]["status"] == "pass"

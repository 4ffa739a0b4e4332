"""Drive the real CLI in a subprocess: exit codes and what it prints."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.slo_synth import write_run

ROOT = Path(__file__).resolve().parents[2]


def gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameday", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_report_writes_files_and_exits_with_verdict(tmp_path: Path) -> None:
    write_run(tmp_path, fault_at_s=None, experiment=None, lost=0)
    proc = gameday("report", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verdict: pass" in proc.stdout
    for name in ("results.json", "report.md", "report.html", "junit.xml"):
        assert (tmp_path / name).is_file()


def test_report_failed_slo_exits_1(tmp_path: Path) -> None:
    write_run(tmp_path)  # whole-run availability breaks during the 7.3 s outage
    spec = tmp_path / "slo-run-scope.yaml"
    spec.write_text("availability_scope: run\nerror_rate_scope: run\n")
    proc = gameday("report", tmp_path, "--quiet", "--spec", spec)
    assert proc.returncode == 1
    assert "failed: availability" in proc.stdout


def test_report_inconclusive_exits_3(tmp_path: Path) -> None:
    write_run(tmp_path, probes=False, requests=False)
    assert gameday("report", tmp_path, "--quiet").returncode == 3


def test_bad_spec_exits_2_naming_the_key(tmp_path: Path) -> None:
    write_run(tmp_path, requests=False)
    spec = tmp_path / "slo-bad.yaml"
    spec.write_text('rpo: "rpo < lots"\nlatency:\n  recovery: ["p95 < 1 parsec"]\n')
    proc = gameday("report", tmp_path, "--spec", spec)
    assert proc.returncode == 2
    assert "rpo:" in proc.stderr and "latency.recovery[0]:" in proc.stderr
    assert str(spec) in proc.stderr
    assert gameday("slo", "validate", spec).returncode == 2


def test_bad_run_folder_exits_2(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text('{"schema": "nope"}')
    proc = gameday("report", tmp_path)
    assert proc.returncode == 2
    assert "run.json" in proc.stderr and "schema" in proc.stderr


def test_compare_flags_regression(tmp_path: Path) -> None:
    base, new = tmp_path / "base", tmp_path / "new"
    write_run(base, outage_s=5.0, requests=False)
    write_run(new, outage_s=9.0, requests=False)
    assert gameday("report", base, "--quiet").returncode == 3  # no requests: inconclusive
    proc = gameday("compare", base, new)
    assert proc.returncode == 1
    assert "REGRESSION" in proc.stdout and "failover time" in proc.stdout
    relaxed = gameday(
        "compare",
        base,
        new,
        *("--tolerance", "failover=5s", "--tolerance", "rto=5s"),
        *("--tolerance", "error_budget=0.5%"),  # 4 s more outage = 0.31 points of budget
    )
    assert relaxed.returncode == 0, relaxed.stdout
    assert gameday("compare", base, new, "--tolerance", "bogus=1").returncode == 2


def test_rules_generate_valid_prometheus_rules(tmp_path: Path) -> None:
    out = tmp_path / "rules.yaml"
    assert gameday("slo", "rules", "--out", out).returncode == 0
    text = out.read_text()
    assert "14.4" in text or "0.0072" in text
    assert "error_ratio_rate1h > 0.0072 and" in text
    assert "error_ratio_rate6h > 0.003 and" in text
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed")
    check = subprocess.run(
        [promtool, "check", "rules", str(out)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_committed_rules_match_the_default_spec(tmp_path: Path) -> None:
    out = tmp_path / "rules.yaml"
    gameday("slo", "rules", "--out", out)
    assert out.read_text() == (ROOT / "manifests/monitoring/slo-burn-rate-rules.yaml").read_text()

"""Phase coverage: each phase is judged on the seconds its load covered, against its planned
window (run.json `windows_s` for the last phase); under 80 % is inconclusive, never pass."""

from __future__ import annotations

import json
from pathlib import Path

from slo.evaluation import evaluate
from slo.measure_load import RunPhase, phase_expected_seconds
from tests.support.slo_synth import T0_WALL, write_run


def _plan(run_dir: Path, **windows: float) -> None:
    path = run_dir / "run.json"
    run = json.loads(path.read_text())
    run["windows_s"] = windows
    path.write_text(json.dumps(run))


def _cut_requests(run_dir: Path, from_rel_s: int) -> None:
    """Drop every request second from `from_rel_s` on (a load that stopped early)."""
    for path in (run_dir / "requests").glob("*.jsonl"):
        lines = [
            line
            for line in path.read_text().splitlines()
            if json.loads(line)["t"] < int(T0_WALL) + from_rel_s
        ]
        path.write_text("".join(line + "\n" for line in lines))


def _phase(results, name):  # type: ignore[no-untyped-def]
    return next(p for p in results.measurements.phases if p.name == name)


def test_a_fully_loaded_recovery_is_judged_over_its_planned_window(tmp_path: Path) -> None:
    # recovery starts at 40 s; the run ended at 60 s but the plan says 10 s of recovery
    write_run(tmp_path, duration_s=60, rollback_at_s=40.0, lost=0)
    _plan(tmp_path, baseline=20, fault=20, recovery=10)
    results = evaluate(tmp_path)
    recovery = _phase(results, "recovery")
    assert (recovery.seconds_with_traffic, recovery.planned_s) == (10, 10)
    assert recovery.coverage == 1.0
    assert recovery.end_wall == T0_WALL + 50
    slo = results.slo("latency.recovery.p95")
    assert slo.status == "pass"
    assert "judged over 10 of the phase's 10 s (100% covered)" in slo.message


def test_a_load_that_stopped_early_makes_the_phase_inconclusive(tmp_path: Path) -> None:
    write_run(tmp_path, duration_s=60, rollback_at_s=40.0, lost=0)
    _plan(tmp_path, baseline=20, fault=20, recovery=10)
    _cut_requests(tmp_path, 43)  # 3 of the 10 planned recovery seconds loaded
    results = evaluate(tmp_path)
    recovery = _phase(results, "recovery")
    assert (recovery.seconds_with_traffic, recovery.planned_s) == (3, 10)
    assert recovery.coverage == 0.3
    slo = results.slo("latency.recovery.p95")
    assert slo.status == "inconclusive"
    assert "judged over 3 of the phase's 10 s (30% covered)" in slo.message
    assert results.verdict.exit_code == 3


def test_eight_of_ten_seconds_is_enough(tmp_path: Path) -> None:
    write_run(tmp_path, duration_s=60, rollback_at_s=40.0, lost=0)
    _plan(tmp_path, baseline=20, fault=20, recovery=10)
    _cut_requests(tmp_path, 48)
    results = evaluate(tmp_path)
    assert _phase(results, "recovery").coverage == 0.8
    assert results.slo("latency.recovery.p95").status == "pass"


def test_a_run_cut_short_still_owes_the_planned_seconds(tmp_path: Path) -> None:
    # the run ended 5 s into a planned 20 s recovery
    write_run(tmp_path, duration_s=45, rollback_at_s=40.0, lost=0)
    _plan(tmp_path, baseline=20, fault=20, recovery=20)
    results = evaluate(tmp_path)
    recovery = _phase(results, "recovery")
    assert (recovery.seconds_with_traffic, recovery.planned_s) == (5, 20)
    assert results.slo("latency.recovery.p95").status == "inconclusive"


def test_a_breach_seen_on_a_partial_phase_still_fails(tmp_path: Path) -> None:
    write_run(tmp_path, duration_s=60, rollback_at_s=40.0, lost=0)
    _plan(tmp_path, baseline=20, fault=20, recovery=10)
    _cut_requests(tmp_path, 43)
    (tmp_path / "slo.yaml").write_text("latency:\n  recovery: [p95 < 1ms]\n")
    assert evaluate(tmp_path).slo("latency.recovery.p95").status == "fail"


def test_expected_seconds_count_midpoints() -> None:
    assert phase_expected_seconds(RunPhase("recovery", 100.2, 110.2)) == 10
    assert phase_expected_seconds(RunPhase("baseline", 100.6, 106.6)) == 6
    assert phase_expected_seconds(RunPhase("baseline", 100.0, 100.4)) == 0
    assert phase_expected_seconds(RunPhase("baseline", float("-inf"), 5.0)) is None

"""Availability / error-rate scope (run vs steady), the error_budget SLO and phase timing.

Synthetic runs of 60 s at 300 req/s (ci profile) with a known outage; the truth
is counted independently from what the synthetic writer put in the files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from slo.evaluation import evaluate
from slo.spec import SloSpec
from tests.support.slo_synth import T0_WALL, write_run

ROOT = Path(__file__).resolve().parents[2]
BUDGET_S = 0.0005 * 30 * 86400  # 99.95 % over 30 days = 1296 s


def _file_outcomes(run_dir: Path, seconds: set[int] | None = None) -> tuple[int, int]:
    """(requests, unavailable) summed straight from requests/*.jsonl (late excluded)."""
    requests = unavailable = 0
    for path in (run_dir / "requests").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if seconds is not None and row["t"] - int(T0_WALL) not in seconds:
                continue
            for outcome, n in row["outcomes"].items():
                requests += n
                unavailable += n if outcome != "ok" else 0
    return requests, unavailable


@pytest.fixture(scope="module")
def failover_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kill-region run as the orchestration records it: 13 s outage inside the fault phase."""
    run_dir = tmp_path_factory.mktemp("failover13")
    write_run(
        run_dir,
        duration_s=60,
        fault_phase_at_s=19.5,  # `fault` phase opens just before the experiment
        fault_at_s=20.0,
        outage_s=13.0,
        rollback_at_s=38.0,
        recovery_phase_at_s=42.0,  # `recovery` opens after the experiment (rollback included)
        ledger=False,
    )
    return run_dir


def test_outage_in_fault_phase_steady_availability_passes(failover_run: Path) -> None:
    results = evaluate(failover_run)
    avail, err = results.slo("availability"), results.slo("error_rate")
    assert avail.status == "pass" and err.status == "pass"
    # steady seconds: 0..18 (19 s) and 42..59 (18 s) wholly outside [19.5, 42)
    steady = set(range(19)) | set(range(42, 60))
    requests, unavailable = _file_outcomes(failover_run, steady)
    assert (requests, unavailable) == (37 * 300, 0)
    assert avail.value == 1.0
    assert avail.evidence["scope"] == "steady" and avail.evidence["requests"] == requests
    assert avail.evidence["seconds_judged"] == 37 and avail.evidence["seconds_excluded"] == 23
    assert f"over {requests} requests" in avail.message
    assert "scope steady" in avail.message and "fault phase" in avail.message
    # the whole run's figure is still reported, unchanged
    all_req, all_unavail = _file_outcomes(failover_run)
    assert results.measurements.traffic.availability == pytest.approx(1 - all_unavail / all_req)
    assert avail.evidence["whole_run"]["requests"] == all_req == 60 * 300


def test_budget_burn_of_13_s_outage(failover_run: Path) -> None:
    results = evaluate(failover_run)
    budget = results.slo("error_budget")
    assert budget.threshold == "budget_burn < 5%"
    assert budget.unit == "ratio"
    assert budget.value == pytest.approx(13.0 / BUDGET_S, rel=0.01)
    assert budget.status == "pass"
    assert budget.evidence["budget_s"] == pytest.approx(BUDGET_S)
    assert budget.evidence["allowed_outage_s"] == pytest.approx(0.05 * BUDGET_S)
    assert "13.0 s of client-visible outage" in budget.message
    tight = evaluate(failover_run, SloSpec(error_budget="budget_burn < 1%"))
    assert tight.slo("error_budget").status == "fail"  # 13 s > 12.96 s


def test_scope_run_reproduces_whole_run_numbers(failover_run: Path) -> None:
    spec = SloSpec(availability_scope="run", error_rate_scope="run")
    results = evaluate(failover_run, spec)
    requests, unavailable = _file_outcomes(failover_run)
    assert unavailable == 13 * 300  # the synthetic writer's truth: 13 s fully down
    avail, err = results.slo("availability"), results.slo("error_rate")
    assert avail.value == pytest.approx(1 - unavailable / requests)  # 78.3 %
    assert err.value == pytest.approx(unavailable / requests)
    assert avail.status == "fail" and err.status == "fail"
    assert avail.evidence["scope"] == "run" and f"over {requests} requests" in avail.message
    assert "whole run" in avail.message


def test_same_outage_in_recovery_phase_fails(tmp_path: Path) -> None:
    write_run(tmp_path, fault_at_s=20.0, outage_at_s=43.0, outage_s=13.0, rollback_at_s=40.0)
    results = evaluate(tmp_path)
    avail = results.slo("availability")
    steady = set(range(20)) | set(range(40, 60))
    requests, unavailable = _file_outcomes(tmp_path, steady)
    assert (requests, unavailable) == (40 * 300, 13 * 300)
    assert avail.status == "fail"
    assert avail.value == pytest.approx(1 - unavailable / requests)
    assert results.slo("error_rate").status == "fail"
    # the budget does not care where the outage was: 13 s either way
    assert results.slo("error_budget").value == pytest.approx(13.0 / BUDGET_S, rel=0.01)


def test_rollback_blip_before_recovery_phase_belongs_to_fault(tmp_path: Path) -> None:
    """A failback blip after fault.rolled_back but before the experiment ended is fault phase."""
    truth = write_run(
        tmp_path,
        fault_phase_at_s=19.2,
        fault_at_s=20.0,
        outage_s=13.0,
        rollback_at_s=40.0,
        extra_outages=((40.5, 2.5),),  # failback during the rollback: 40.5 .. 43.0
        recovery_phase_at_s=43.7,
        ledger=False,
    )
    results = evaluate(tmp_path)
    phases = {p.name: p for p in results.measurements.phases}
    assert phases["fault"].start_wall == pytest.approx(T0_WALL + 19.2)
    assert phases["recovery"].start_wall == pytest.approx(T0_WALL + 43.7)
    # second 43 (midpoint 43.5) is fault phase; recovery = seconds 44..59
    assert phases["recovery"].all.count == 16 * 300 == truth.samples("recovery").size
    assert results.slo("availability").status == "pass"
    # both outages burn budget: 13 s + 2.5 s
    assert results.slo("error_budget").value == pytest.approx(15.5 / BUDGET_S, rel=0.01)


def test_recovery_phase_starts_at_rollback_without_phase_events(tmp_path: Path) -> None:
    write_run(tmp_path, phase_events=False, rollback_at_s=38.0, ledger=False)
    phases = {p.name: p for p in evaluate(tmp_path).measurements.phases}
    assert phases["recovery"].start_wall == pytest.approx(T0_WALL + 38.0)
    assert phases["fault"].start_wall == pytest.approx(T0_WALL + 20.0)


def test_run_without_fault_judges_whole_run(tmp_path: Path) -> None:
    write_run(tmp_path, fault_at_s=None, experiment=None, ledger=False)
    avail = evaluate(tmp_path).slo("availability")
    assert avail.status == "pass"
    assert avail.evidence["scope"] == "steady" and avail.evidence["scope_effective"] == "run"
    assert avail.evidence["requests"] == 60 * 300
    assert "the run had no fault" in avail.message


def test_experiment_without_fault_window_is_inconclusive(tmp_path: Path) -> None:
    write_run(tmp_path, fault_at_s=None, phase_events=False, ledger=False)
    results = evaluate(tmp_path)
    assert results.slo("availability").status == "inconclusive"
    assert "fault window is unknown" in results.slo("availability").message


def test_budget_inconclusive_without_probes_and_disabled_by_null(tmp_path: Path) -> None:
    write_run(tmp_path, probes=False, requests=False, ledger=False)
    budget = evaluate(tmp_path).slo("error_budget")
    assert budget.status == "inconclusive" and "no probes" in budget.message
    off = evaluate(tmp_path, SloSpec(error_budget=None))
    assert "error_budget" not in {s.id for s in off.slos}


def test_budget_slo_in_every_report(failover_run: Path) -> None:
    import xml.etree.ElementTree as ET

    import slo

    results = evaluate(failover_run)
    slo.render(failover_run, results)
    raw = json.loads((failover_run / "results.json").read_text())
    assert [s for s in raw["slos"] if s["id"] == "error_budget"][0]["status"] == "pass"
    assert raw["spec"]["availability_scope"] == "steady"
    assert raw["spec"]["error_budget"] == "budget_burn < 5%"
    md = (failover_run / "report.md").read_text()
    burn = results.slo("error_budget").value
    assert f"| error budget burn | `budget_burn < 5%` | {burn * 100:.3f} % | PASS |" in md
    assert "error budget burn" in (failover_run / "report.html").read_text()
    cases = ET.parse(failover_run / "junit.xml").getroot().iter("testcase")
    assert "error_budget" in {c.get("name") for c in cases}


def test_bad_scope_exits_2_naming_the_key(tmp_path: Path) -> None:
    write_run(tmp_path, requests=False, ledger=False)
    spec = tmp_path / "slo-bad.yaml"
    spec.write_text("availability_scope: fault\nerror_budget: budget_burn < 5s\n")
    for args in (["report", str(tmp_path), "--spec", str(spec)], ["slo", "validate", str(spec)]):
        proc = subprocess.run(
            [sys.executable, "-m", "gameday", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "availability_scope" in proc.stderr and "'run' or 'steady'" in proc.stderr
        assert "error_budget" in proc.stderr and str(spec) in proc.stderr


def test_compare_judged_availability_and_budget_burn(tmp_path: Path, failover_run: Path) -> None:
    from slo.compare import compare, parse_tolerance

    longer = tmp_path / "longer"
    write_run(
        longer,
        fault_phase_at_s=19.5,
        outage_s=16.0,
        rollback_at_s=38.0,
        recovery_phase_at_s=42.0,
        ledger=False,
    )
    base, new = evaluate(failover_run), evaluate(longer)
    rows = {r.key: r for r in compare(base, new)}
    # both outages lie in the fault phase: judged availability 100 % in both, no regression
    assert rows["availability"].base == rows["availability"].new == 1.0
    assert not rows["availability"].regression
    # 3 s more outage = 0.23 points of budget > 0.2 tolerance
    burn = rows["error_budget"]
    assert burn.new - burn.base == pytest.approx(3.0 / BUDGET_S, rel=0.02)
    assert burn.regression
    key, tol = parse_tolerance("error_budget=0.5%")
    assert (key, tol.value, tol.relative) == ("error_budget", 0.005, False)
    assert not {r.key: r for r in compare(base, new, {key: tol})}["error_budget"].regression
    run_scope = evaluate(longer, SloSpec(availability_scope="run"))
    figures = {r.figure: r for r in compare(base, run_scope)}
    assert "scope steady vs run" in figures["availability"].note
    assert figures["SLO availability"].regression  # passed in BASE, fails in NEW


def test_too_few_requests_to_resolve_the_target_is_said(tmp_path: Path) -> None:
    write_run(tmp_path, fault_at_s=None, experiment=None, rps=30, ledger=False)
    avail = evaluate(tmp_path).slo("availability")
    assert avail.evidence["requests"] == 60 * 30  # < 2,000: one failure would be 0.056 %
    assert "caution: one failed request is 0.056 % of 1800" in avail.message


def test_fault_outside_the_fault_phase_is_noted(tmp_path: Path) -> None:
    write_run(tmp_path, fault_phase_at_s=25.0, fault_at_s=20.0, requests=True, ledger=False)
    results = evaluate(tmp_path)
    assert any("fault.injected lies outside the fault phase" in n for n in results.notes)

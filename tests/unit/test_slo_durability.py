"""Durability: lost acknowledged writes classified by ack time, judged, named in the verdict.

Synthetic run folders with known truth (tests/support/slo_synth.py): writes acknowledged after
the fault and missing from the read-back must fail the run (exit 1) whatever the time
figures say; RPO is the span the lost writes' acks cover.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from slo.evaluation import evaluate
from slo.measure_data import LeaderChange, leaders_between, measure_data_loss
from slo.runfolder import LedgerEntry, Readback
from tests.support.slo_synth import write_run


def _freeze_like(path: Path) -> object:
    """The shape of a freeze-region run that lost writes: 80 acked 12-16 s after the fault
    while pg-secondary led, discarded when pg-primary took the lead back at +17 s."""
    return write_run(
        path,
        lost=0,
        lost_after_fault=80,
        lost_after_at_s=20.0 + 12.0,
        failback_leader_at_s=20.0 + 17.0,
        requests=False,
    )


def test_writes_lost_after_the_fault_fail_the_run(tmp_path: Path) -> None:
    truth = _freeze_like(tmp_path)
    results = evaluate(tmp_path)
    d = results.measurements.data
    assert d is not None
    assert (d.lost, d.lost_after_fault, d.lost_before_fault) == (80, 80, 0)
    assert sorted(d.lost_seqs_sample) == sorted(truth.lost_after_seqs)[:50]  # type: ignore[attr-defined]
    # RPO is the span the lost writes' acks cover (79 gaps of 50 ms), never 0
    assert d.rpo_s == pytest.approx(truth.lost_after_span_s, abs=1e-6)  # type: ignore[attr-defined]
    assert d.rpo_s == pytest.approx(79 / 20, abs=1e-6)
    (loss,) = d.losses
    assert loss.leaders == ["pg-secondary"]
    assert loss.discarded_by == "pg-secondary lost the lead to pg-primary at +17.0 s"
    durability = results.slo("durability")
    assert durability.status == "fail" and durability.value == 80
    assert results.slo("rpo").status == "pass"  # 4 s < 5 min: the time figure alone passed
    assert results.verdict.exit_code == 1
    assert results.verdict.summary.startswith(
        "80 acknowledged writes lost (acknowledged 12.0-16.0 s after the fault, while "
        "pg-secondary led; discarded when pg-secondary lost the lead to pg-primary at +17.0 s)"
    )


def test_report_command_fails_with_the_loss_in_the_verdict_line(tmp_path: Path) -> None:
    _freeze_like(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "gameday", "report", str(tmp_path), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        "verdict: fail (exit 1): 80 acknowledged writes lost (acknowledged 12.0-16.0 s after"
        in (proc.stdout)
    )
    assert "| 1 | 80 |" in (tmp_path / "report.md").read_text()


def test_losses_before_the_fault_are_judged_by_rpo_only(tmp_path: Path) -> None:
    truth = write_run(tmp_path, lost=42, requests=False)
    results = evaluate(tmp_path)
    d = results.measurements.data
    assert d is not None and (d.lost_before_fault, d.lost_after_fault) == (42, 0)
    # the loss started before the fault: its span runs to the fault
    assert d.rpo_s == pytest.approx(truth.rpo_s, abs=1e-6)
    assert results.slo("durability").status == "pass"
    assert "42 acknowledged writes lost (acknowledged" in results.slo("durability").message


def test_a_count_threshold_counts_every_lost_write(tmp_path: Path) -> None:
    write_run(tmp_path, lost=42, requests=False)
    (tmp_path / "slo.yaml").write_text("durability: lost <= 10\n")
    results = evaluate(tmp_path)
    assert results.slo("durability").status == "fail"
    assert results.slo("durability").value == 42
    (tmp_path / "slo.yaml").write_text("durability: lost_after_fault <= 100\n")
    assert evaluate(tmp_path).slo("durability").status == "pass"


def test_durability_null_is_not_judged(tmp_path: Path) -> None:
    _freeze_like(tmp_path)
    (tmp_path / "slo.yaml").write_text("durability: null\n")
    results = evaluate(tmp_path)
    assert all(s.id != "durability" for s in results.slos)


def test_nothing_lost_passes_with_rpo_zero(tmp_path: Path) -> None:
    write_run(tmp_path, lost=0, requests=False)
    results = evaluate(tmp_path)
    assert results.slo("durability").status == "pass"
    assert results.slo("rpo").value == 0.0


def test_no_ledger_is_inconclusive(tmp_path: Path) -> None:
    write_run(tmp_path, ledger=False, requests=False)
    assert evaluate(tmp_path).slo("durability").status == "inconclusive"


def _e(seq: int, t_ack: float) -> LedgerEntry:
    return LedgerEntry(seq, "c", t_ack - 0.01, t_ack, "acknowledged")


def test_two_losses_each_have_their_span_and_class() -> None:
    # acks every 0.5 s; fault at 10.0; lost: seq 18-19 (acked 9.0, 9.5) and 30-33 (15.0-16.5)
    ledger = [_e(i, i * 0.5) for i in range(1, 41)]
    present = [(1, 17), (20, 29), (34, 40)]
    d = measure_data_loss(ledger, Readback("c", present, "x"), 10.0)
    assert (d.lost, d.lost_before_fault, d.lost_after_fault) == (6, 2, 4)
    first, second = d.losses
    assert first.span_s == pytest.approx(1.0)  # 9.0 .. the fault at 10.0
    assert second.span_s == pytest.approx(1.5)  # 15.0 .. 16.5
    assert d.rpo_s == pytest.approx(1.5)
    assert d.lost_before_fault_ack_s == pytest.approx([-1.0, -0.5])
    assert d.lost_after_fault_ack_s == pytest.approx([5.0, 6.5])


def test_a_single_lost_write_has_the_ledger_resolution_as_rpo() -> None:
    ledger = [_e(i, 100.0 + i * 0.1) for i in range(1, 11)]
    d = measure_data_loss(ledger, Readback("c", [(1, 6), (8, 10)], "x"), 100.0)
    assert d.lost == 1 and d.lost_after_fault == 1
    assert d.rpo_s == pytest.approx(0.1)


def test_leaders_between_follows_the_changes() -> None:
    changes = [
        LeaderChange(10.0, "a", None),
        LeaderChange(12.0, None, "b"),
        LeaderChange(20.0, "b", "a"),
    ]
    assert leaders_between(changes, 5.0, 9.0) == ["a"]
    assert leaders_between(changes, 11.0, 19.0) == ["b"]
    assert leaders_between(changes, 13.0, 21.0) == ["b", "a"]
    assert leaders_between([], 0.0, 1.0) == []

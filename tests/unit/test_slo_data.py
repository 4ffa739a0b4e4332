"""Lost writes and RPO against a synthetic ledger with known losses."""

from __future__ import annotations

from pathlib import Path

import pytest

from slo.evaluation import evaluate
from slo.measure_data import measure_data_loss
from slo.runfolder import LedgerEntry, Readback
from tests.support.slo_synth import write_run


def test_42_lost_of_1000_acknowledged(tmp_path: Path) -> None:
    truth = write_run(tmp_path, acked_writes=1000, lost=42, indeterminate=6, requests=False)
    results = evaluate(tmp_path)
    d = results.measurements.data
    assert d.acknowledged == 1000
    assert d.lost == 42
    assert d.lost_seqs_sample == sorted(truth.lost_seqs)
    # indeterminate writes (half of them present) are counted apart, never as lost
    assert d.indeterminate == 6
    assert d.indeterminate_present == 3
    assert d.rpo_s == pytest.approx(truth.rpo_s, abs=1e-6)
    assert d.earliest_lost_seq == min(truth.lost_seqs)
    assert d.last_kept_seq == min(truth.lost_seqs) - 1
    rpo = results.slo("rpo")
    assert rpo.status == "pass"
    assert "42 of 1000" in rpo.message


def test_rpo_breach_fails(tmp_path: Path) -> None:
    # 20 writes/s: 8,000 lost writes before the fault span 400 s > 5 min
    write_run(
        tmp_path,
        duration_s=900,
        fault_at_s=500.0,
        rollback_at_s=700.0,
        acked_writes=12000,
        lost=8000,
        requests=False,
        probes=False,
    )
    rpo = evaluate(tmp_path).slo("rpo")
    assert rpo.status == "fail"
    assert rpo.value == pytest.approx(400.0, abs=0.1)


def test_nothing_lost_gives_rpo_zero(tmp_path: Path) -> None:
    write_run(tmp_path, lost=0, requests=False)
    rpo = evaluate(tmp_path).slo("rpo")
    assert rpo.status == "pass"
    assert rpo.value == 0.0


def test_no_ledger_is_inconclusive(tmp_path: Path) -> None:
    write_run(tmp_path, ledger=False, requests=False)
    results = evaluate(tmp_path)
    assert results.slo("rpo").status == "inconclusive"
    assert results.verdict.exit_code == 3


def test_ledger_without_readback_is_inconclusive(tmp_path: Path) -> None:
    write_run(tmp_path, requests=False)
    (tmp_path / "readback.json").unlink()
    assert evaluate(tmp_path).slo("rpo").status == "inconclusive"


def _entry(seq: int, t: float, outcome: str = "acknowledged") -> LedgerEntry:
    return LedgerEntry(seq, "c", t, t + 0.01 if outcome == "acknowledged" else None, outcome)


def test_loss_without_a_fault_fails() -> None:
    ledger = [_entry(i, float(i)) for i in range(1, 11)]
    d = measure_data_loss(ledger, Readback("c", [(1, 4), (6, 10)], "x"), None)
    assert d.lost == 1
    assert d.lost_unclassified == 1  # no fault to classify it: the durability SLO counts it
    assert d.rpo_s == 1.0  # one write: the ledger's resolution (1 s between acks), never 0


def test_indeterminate_and_failed_never_lost() -> None:
    ledger = [
        _entry(1, 1.0),
        _entry(2, 2.0, "indeterminate"),
        _entry(3, 3.0, "failed"),
        _entry(4, 4.0),
    ]
    d = measure_data_loss(ledger, Readback("c", [(1, 1), (3, 4)], "x"), 10.0)
    assert (d.lost, d.indeterminate, d.indeterminate_present, d.failed_but_present) == (0, 1, 0, 1)
    assert d.rpo_s == 0.0


def test_other_clients_are_ignored_and_noted() -> None:
    ledger = [_entry(1, 1.0), LedgerEntry(1, "other", 1.0, 1.01, "acknowledged")]
    d = measure_data_loss(ledger, Readback("c", [(1, 1)], "x"), 5.0)
    assert d.acknowledged == 1 and d.lost == 0
    assert "other clients" in d.note

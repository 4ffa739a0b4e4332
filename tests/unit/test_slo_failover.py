"""Failover time and RTO against synthetic probes with a known outage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slo.evaluation import evaluate
from slo.measure_failover import outage_seconds, sustained_recovery
from slo.runfolder import Probe
from tests.support.slo_synth import write_run


def _probes(times_ok: list[tuple[float, bool, str | None]], kind: str = "read") -> list[Probe]:
    return [
        Probe(t, t, kind, ok, "ok" if ok else "conn_error", 0.001 if ok else None, region)
        for t, ok, region in times_ok
    ]


@pytest.fixture(scope="module")
def outage_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    run_dir = tmp_path_factory.mktemp("outage")
    truth = write_run(run_dir, outage_s=7.3, requests=False)
    return run_dir, truth


def test_outage_of_7_3_s_measures_7_3_s(outage_run) -> None:
    run_dir, truth = outage_run
    results = evaluate(run_dir)
    failover = results.slo("failover")
    assert failover.status == "pass"
    assert failover.value == pytest.approx(7.3, abs=0.1)
    assert results.measurements.failover.disruption_observed
    assert results.slo("rto").value == pytest.approx(7.3, abs=0.1)
    # the client-visible outage feeding the error budget is the same 7.3 s
    assert results.measurements.error_budget.outage_s == pytest.approx(7.3, abs=0.1)
    assert "7.3 s" in results.measurements.error_budget.sentence


def test_rto_waits_for_writes(tmp_path: Path) -> None:
    write_run(tmp_path, outage_s=4.0, write_outage_s=11.5, requests=False)
    results = evaluate(tmp_path)
    assert results.slo("failover").value == pytest.approx(4.0, abs=0.1)
    assert results.slo("rto").value == pytest.approx(11.5, abs=0.1)


def test_long_outage_fails_with_value(tmp_path: Path) -> None:
    write_run(
        tmp_path, outage_s=33.0, rollback_at_s=55.0, duration_s=60, requests=False, ledger=False
    )
    results = evaluate(tmp_path)
    assert results.slo("failover").status == "fail"
    assert results.slo("failover").value == pytest.approx(33.0, abs=0.1)


def test_recovery_never_seen_gives_lower_bound() -> None:
    probes = _probes([(i * 0.1, False, None) for i in range(400)])
    m = sustained_recovery(probes, 0.0, ["read"], lambda p: p.ok, 5.0, 1.0)
    assert m.value_s is None
    assert m.lower_bound_s == pytest.approx(39.9 - 5.0)


def test_ok_from_the_lost_region_is_not_failover() -> None:
    # after the fault, probes still succeed from "primary" (the lost region) for 2 s
    rows = [(i * 0.1, True, "primary" if i < 20 else "secondary") for i in range(150)]
    probes = _probes(rows)
    m = sustained_recovery(
        probes, 0.0, ["read"], lambda p: p.ok and p.region == "secondary", 5.0, 1.0
    )
    assert m.value_s == pytest.approx(2.0)


def test_a_silence_breaks_a_sustained_window() -> None:
    # fails until 3 s, good at 3.0-4.0, prober silent 4.0-9.0, good from 9.0 on
    rows = [(i * 0.1, i >= 30, "b") for i in range(41)] + [
        (9.0 + i * 0.1, True, "b") for i in range(80)
    ]
    m = sustained_recovery(_probes(rows), 0.0, ["read"], lambda p: p.ok, 5.0, 1.0)
    assert m.value_s == pytest.approx(9.0)


def test_rto_without_write_probes_is_not_measured() -> None:
    probes = _probes([(i * 0.1, True, "b") for i in range(200)])
    m = sustained_recovery(probes, 0.0, ["read", "write"], lambda p: p.ok, 5.0, 1.0)
    assert m.value_s is None
    assert "no write probes" in m.note


def test_no_probes_is_inconclusive(tmp_path: Path) -> None:
    write_run(tmp_path, probes=False, requests=False)
    results = evaluate(tmp_path)
    assert results.slo("failover").status == "inconclusive"
    assert results.slo("rto").status == "inconclusive"
    assert results.verdict.status == "inconclusive"
    assert results.verdict.exit_code == 3


def test_experiment_without_fault_event_is_inconclusive(tmp_path: Path) -> None:
    write_run(tmp_path, fault_at_s=None, requests=False, ledger=False)
    assert evaluate(tmp_path).slo("failover").status == "inconclusive"


def test_no_experiment_means_not_applicable(tmp_path: Path) -> None:
    write_run(tmp_path, fault_at_s=None, experiment=None, requests=False, ledger=False)
    results = evaluate(tmp_path)
    assert results.slo("failover").status == "not_applicable"
    assert results.slo("rpo").status == "not_applicable"


def test_failover_timeline_phases_from_events(outage_run) -> None:
    run_dir, _ = outage_run
    spans = {s.name: s for s in evaluate(run_dir).measurements.failover_timeline}
    assert spans["detection"].end_s == pytest.approx(3.0)
    assert spans["traffic switch"].start_s == pytest.approx(3.0)
    assert spans["traffic switch"].end_s == pytest.approx(4.0)
    assert spans["database promotion"].end_s == pytest.approx(6.0)
    assert spans["client-visible failover"].end_s == pytest.approx(7.3, abs=0.1)


def test_outage_seconds_unions_kinds() -> None:
    reads = _probes([(i * 1.0, not 2 <= i < 5, "a") for i in range(10)])
    writes = _probes([(i * 1.0, not 4 <= i < 8, "a") for i in range(10)], kind="write")
    assert outage_seconds(reads + writes, ("read", "write"), 0, 100) == pytest.approx(6.0)


def test_torn_last_line_is_tolerated(tmp_path: Path) -> None:
    write_run(tmp_path, requests=False)
    with (tmp_path / "probes.jsonl").open("a") as fh:
        fh.write('{"t_wall": 1, "t_mo')
    assert evaluate(tmp_path).slo("failover").status == "pass"


def test_bad_probe_line_names_file_and_key(tmp_path: Path) -> None:
    from bedrock.errors import InputError

    write_run(tmp_path, requests=False)
    with (tmp_path / "probes.jsonl").open("a") as fh:
        fh.write(json.dumps({"t_wall": 1.0, "kind": "read", "outcome": "ok"}) + "\n")
    with pytest.raises(InputError, match=r"probes.jsonl:\d+: missing key 't_mono'"):
        evaluate(tmp_path)


def test_region_fault_needs_another_region_even_without_run_regions(tmp_path: Path) -> None:
    write_run(tmp_path, outage_s=6.0, requests=False)
    run = json.loads((tmp_path / "run.json").read_text())
    del run["regions"]
    (tmp_path / "run.json").write_text(json.dumps(run))
    assert evaluate(tmp_path).slo("failover").value == pytest.approx(6.0, abs=0.1)

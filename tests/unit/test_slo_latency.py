"""Per-phase percentiles, throughput and availability against known request samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bedrock.histograms import decode_counts, new_histogram, percentiles_ms
from slo.evaluation import evaluate
from tests.support.slo_synth import ENDPOINTS, write_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    run_dir = tmp_path_factory.mktemp("latency")
    truth = write_run(run_dir, rps=300)
    return run_dir, truth, evaluate(run_dir)


@pytest.mark.parametrize("phase", ["baseline", "fault", "recovery"])
@pytest.mark.parametrize("q", [50.0, 95.0, 99.0])
def test_phase_percentiles_match_exact_samples(run, phase: str, q: float) -> None:
    _, truth, results = run
    measured = next(p for p in results.measurements.phases if p.name == phase).all
    exact_ms = float(np.percentile(truth.samples(phase), q)) / 1000
    value = {50.0: measured.p50_ms, 95.0: measured.p95_ms, 99.0: measured.p99_ms}[q]
    assert value == pytest.approx(exact_ms, rel=0.01)
    assert measured.count == len(truth.samples(phase))


def test_phase_verdict_uses_the_phase_samples(run) -> None:
    _, truth, results = run
    slo = results.slo("latency.fault.p95")
    assert slo.unit == "ms"
    assert slo.value == pytest.approx(np.percentile(truth.samples("fault"), 95) / 1000, rel=0.01)
    assert slo.status == "pass"


def test_per_endpoint_stats_present(run) -> None:
    _, _, results = run
    baseline = next(p for p in results.measurements.phases if p.name == "baseline")
    assert set(baseline.endpoints) == set(ENDPOINTS)
    assert sum(s.count for s in baseline.endpoints.values()) == baseline.all.count


def test_phase_bounds_are_per_phase(tmp_path: Path) -> None:
    from slo.spec import SloSpec

    write_run(tmp_path, requests=True, ledger=False)
    spec = SloSpec(
        latency={"baseline": ["p95 < 20ms"], "fault": ["p95 < 50ms"], "recovery": ["p99 < 1s"]}
    )
    results = evaluate(tmp_path, spec)
    assert results.slo("latency.baseline.p95").status == "pass"
    assert results.slo("latency.fault.p95").status == "fail"  # fault median is 30 ms
    assert results.slo("latency.recovery.p99").status == "pass"


def test_numpy_percentiles_equal_hdrh() -> None:
    rng = np.random.default_rng(3)
    h = new_histogram()
    for v in rng.lognormal(9, 1.0, 3000).astype(int) + 1:
        h.record_value(int(v))
    counts = decode_counts(h.encode())
    qs = (50.0, 90.0, 95.0, 99.0, 99.9)
    assert percentiles_ms(counts, qs) == [h.get_value_at_percentile(q) / 1000 for q in qs]


def test_throughput_and_availability_from_outcomes(run) -> None:
    _, truth, results = run
    t = results.measurements.traffic
    assert t.requests == 60 * 300
    # errors only in seconds overlapping the 7.3 s outage: 20..27.3
    expected_errors = sum(round(100 * f) for f in [1.0] * 7 + [0.3]) * len(ENDPOINTS)
    assert t.server_errors == expected_errors
    assert t.availability == pytest.approx(1 - expected_errors / t.requests)
    assert t.peak_rps == pytest.approx(300.0)
    assert results.slo("throughput").status == "pass"  # ci profile: 5000 x 0.02 = 100 req/s
    # the outage lies inside the fault phase: steady-scope availability (default) holds
    avail = results.slo("availability")
    assert avail.status == "pass"
    assert avail.evidence["scope_effective"] == "steady"
    assert avail.evidence["whole_run"]["availability"] == t.availability


def test_no_requests_is_inconclusive(tmp_path: Path) -> None:
    write_run(tmp_path, requests=False)
    results = evaluate(tmp_path)
    for slo_id in ("latency.baseline.p95", "throughput", "availability", "error_rate"):
        assert results.slo(slo_id).status == "inconclusive"


def test_phases_derived_from_fault_without_phase_events(tmp_path: Path) -> None:
    write_run(tmp_path, phase_events=False, ledger=False)
    names = [p.name for p in evaluate(tmp_path).measurements.phases]
    assert names == ["baseline", "fault", "recovery"]


def test_outcome_classes_late_and_4xx() -> None:
    from slo.measure_load import traffic_from
    from slo.results import Series

    series = Series(t=[10, 11, 13], ok=[90, 100, 80], errors=[0, 0, 0])
    t = traffic_from(
        series, {"ok": 270, "http_404": 10, "http_503": 5, "timeout": 3, "late": 40}, 2
    )
    assert t.requests == 288 and t.late == 40
    assert t.availability == pytest.approx(1 - 8 / 288)
    assert t.error_rate == pytest.approx(18 / 288)
    assert t.duration_s == 4  # the silent second 12 counts as zero throughput
    assert t.peak_rps == pytest.approx(95.0)


def test_per_second_series_matches_each_seconds_samples(run) -> None:
    _, truth, results = run
    series = results._series
    assert series is not None and len(series.t) == 60
    # samples_us lists one array per (second, endpoint), in order, per phase
    flat = [arr for phase in ("baseline", "fault", "recovery") for arr in truth.samples_us[phase]]
    for s in (0, 19, 20, 33, 59):
        exact = np.percentile(
            np.concatenate(flat[s * len(ENDPOINTS) : (s + 1) * len(ENDPOINTS)]), 95
        )
        assert series.p95_ms[s] == pytest.approx(exact / 1000, rel=0.02)

"""Recorded histograms: merge across processes is exact; percentiles agree with numpy within 1 %."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from bedrock.errors import InputError
from bedrock.histograms import latency_us, new_histogram
from loadtests.histograms import load_cells, merge, summary
from loadtests.recorder import RequestRecorder, outcome_for_status

T0 = 1_764_316_800


def samples_s(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.lognormal(mean=np.log(0.004), sigma=0.8, size=n)  # median 4 ms, long tail


def record_all(run_dir: Path, writer: str, lat: np.ndarray, offset: int) -> None:
    rec = RequestRecorder(run_dir, writer)
    for i, x in enumerate(lat):
        rec.record("GET /items/{id}", T0 + (i + offset) % 7 + 0.5, float(x), "ok")
    rec.flush(None)


def test_merge_across_processes_equals_histogram_of_all_samples(tmp_path: Path) -> None:
    parts = [samples_s(20_000, seed) for seed in (1, 2, 3)]
    for w, part in enumerate(parts):
        record_all(tmp_path, f"proc-{w}", part, w)
    merged = merge(load_cells(tmp_path))
    direct = new_histogram()
    for x in np.concatenate(parts):
        direct.record_value(latency_us(float(x)))
    assert merged.hist.get_total_count() == 60_000 == merged.ok
    for q in (50, 90, 95, 99, 99.9, 100):
        assert merged.hist.get_value_at_percentile(q) == direct.get_value_at_percentile(q)
    assert merged.hist.get_min_value() == direct.get_min_value()
    # bucket by bucket, not just at a few percentiles
    assert list(merged.hist.counts) == list(direct.counts)


def test_percentiles_within_one_percent_of_numpy(tmp_path: Path) -> None:
    lat = samples_s(50_000, 7)
    record_all(tmp_path, "one", lat, 0)
    cell = merge(load_cells(tmp_path))
    for q in (50, 90, 95, 99, 99.9):
        exact_ms = float(np.percentile(lat, q)) * 1000
        assert cell.percentile_ms(q) == pytest.approx(exact_ms, rel=0.01)


def test_lines_follow_the_run_folder_contract(tmp_path: Path) -> None:
    rec = RequestRecorder(tmp_path, "w1")
    rec.record("GET /health", T0 + 0.2, 0.0031, "ok")
    rec.record("GET /health", T0 + 0.9, 1.5, "timeout")
    rec.record("POST /items", T0 + 1.1, 0.004, outcome_for_status(503))
    rec.record("POST /items", T0 + 1.2, None, "late")
    assert rec.flush(None) == 2
    lines = [json.loads(x) for x in (tmp_path / "requests" / "w1.jsonl").read_text().splitlines()]
    assert [(x["t"], x["endpoint"]) for x in lines] == [
        (T0, "GET /health"),
        (T0 + 1, "POST /items"),
    ]
    assert all(set(x) == {"t", "endpoint", "hist", "outcomes"} for x in lines)
    by_key = {(x["t"], x["endpoint"]): x for x in lines}
    health = by_key[(T0, "GET /health")]
    assert health["outcomes"] == {"ok": 1, "timeout": 1}
    h = HdrHistogram.decode(health["hist"])
    assert h.get_total_count() == 2
    assert h.get_max_value() == pytest.approx(1_500_000, rel=0.001)
    items = by_key[(T0 + 1, "POST /items")]
    assert items["outcomes"] == {"http_503": 1, "late": 1}
    assert HdrHistogram.decode(items["hist"]).get_total_count() == 1  # late: counted, no latency


def test_flush_keeps_memory_bounded_and_late_answers_merge(tmp_path: Path) -> None:
    rec = RequestRecorder(tmp_path, "w")
    for s in range(3600):  # an hour, flushed every second
        rec.record("GET /static", T0 + s + 0.5, 0.001, "ok")
        rec.flush(T0 + s + 0.99, settle_s=2.0)
        assert rec.pending_seconds() <= 3
    rec.record("GET /static", T0 + 10.5, 4.0, "timeout")  # a very late answer for an old second
    rec.flush(None)
    cells = load_cells(tmp_path)
    assert len(cells) == 3600
    assert cells[(T0 + 10, "GET /static")].outcomes == {"ok": 1, "timeout": 1}
    assert summary(tmp_path)["ALL"]["sent"] == 3601


def test_status_outcomes_and_latency_clamp() -> None:
    assert outcome_for_status(200) == "ok"
    assert outcome_for_status(302) == "ok"
    assert outcome_for_status(404) == "http_404"
    assert latency_us(0.0) == 1
    assert latency_us(1e6) == 60_000_000


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "requests").mkdir()
    (tmp_path / "requests" / "x.jsonl").write_text('{"t": 1, "endpoint": "a"}\n')
    with pytest.raises(InputError, match=r"x.jsonl:1"):
        load_cells(tmp_path)


def test_a_second_with_only_late_arrivals_has_counts_but_no_latency(tmp_path: Path) -> None:
    rec = RequestRecorder(tmp_path, "w")
    for _ in range(3):
        rec.record("GET /items/{id}", T0 + 0.1, None, "late")
    rec.flush(None)
    cell = merge(load_cells(tmp_path))
    assert cell.outcomes == {"late": 3} and cell.sent == 0
    assert cell.hist.get_total_count() == 0 and cell.percentile_ms(95) is None

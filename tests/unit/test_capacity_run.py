"""`gameday capacity` orchestration and report against an in-memory target with a known knee.

The target is a queueing model of replicas (M/M/1-like p95 growth), standing in for the
stack's implementation of the CapacityTarget interface: the knee it implies is known.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from autoscaler.capacity import Spike
from autoscaler.spec import load_hpa
from gameday.capacity.run import (
    PROFILES,
    LocalSpikePlan,
    ObservedSpike,
    StepFigures,
    analyse,
    attach_local_spike,
    predict_local,
    run_ladder,
)
from slo.capacity_report import write_report

SEED = "manifests/k8s/base/hpa.yaml"


class Model:
    """p95 = 5 ms / (1 - load/500) per replica; saturates at 500 req/s per replica."""

    def __init__(self) -> None:
        self.replicas = 0
        self.calls: list[tuple[int, float]] = []

    def set_replicas(self, replicas: int) -> None:
        self.replicas = replicas

    def load_step(self, rate_rps: float, duration_s: float) -> StepFigures:
        self.calls.append((self.replicas, rate_rps))
        per = rate_rps / self.replicas
        if per >= 500:
            return StepFigures(500.0 * self.replicas, 2000.0, 0.05)
        return StepFigures(rate_rps, 5.0 / (1 - per / 500), 0.0)

    def measure_startup(self) -> list[float]:
        return [2.0, 3.0, 2.5]


def test_ladder_stops_at_the_first_failing_step() -> None:
    target = Model()
    steps = run_ladder(target, PROFILES["nightly"], p95_target_ms=100)
    # p95 < 100 ms <=> per-replica load < 475 req/s
    for replicas in (1, 2):
        rates = [r for (n, r) in target.calls if n == replicas]
        per = [r / replicas for r in rates]
        assert all(p < 475 for p in per[:-1]) and per[-1] >= 475
    assert len(steps) == len(target.calls)


def test_analysis_and_report(tmp_path: Path) -> None:
    target = Model()
    spec = load_hpa(SEED)
    steps = run_ladder(target, PROFILES["ci"], p95_target_ms=100)
    report = analyse(spec, steps, profile="ci", startup_s=target.measure_startup())
    knee = report.knees[1]
    expected = max(r for (_, r) in target.calls if r < 475)
    assert knee.rps == pytest.approx(expected)
    assert report.answers is not None
    assert report.answers.replicas_needed == math.ceil(5000 / expected)
    assert report.startup_s == 2.5
    assert len(report.predictions) == 2
    long_spike, k6_spike = report.predictions
    assert long_spike.scale_time_s is not None and long_spike.first_scale_s == 60
    assert k6_spike.scale_time_s is None  # 30 s spike: over before the 60 s window lets go
    paths = write_report(report, tmp_path)
    summary = json.loads(paths["json"].read_text())
    assert summary["schema"] == "gameday.capacity/2"
    assert summary["usl"]["fit"]["lambda"] == pytest.approx(expected)
    assert any("too few data" in w for w in summary["usl"]["warnings"])
    assert summary["knees"]["1"]["rps"] == pytest.approx(expected)
    assert summary["conclusive"] is True
    md = paths["markdown"].read_text()
    assert "Replicas needed for 5,000 req/s" in md and "Not measured" in md
    assert "## Scaling law (USL)" in md
    html = paths["html"].read_text()
    assert html.count("data:image/png;base64,") == 2
    assert "## " not in html and "| replicas |" not in html and "![" not in html
    answer, evidence = html.index('id="answer"'), html.index('id="evidence"')
    assert answer < html.index("replicas for 5,000 req/s") < evidence
    assert "no headroom left" in html  # the seed HPA asks exactly maxReplicas at 5,000 req/s
    assert (tmp_path / "capacity-latency.png").stat().st_size > 1000


def test_no_knee_is_inconclusive(tmp_path: Path) -> None:
    class Broken(Model):
        def load_step(self, rate_rps: float, duration_s: float) -> StepFigures:
            return StepFigures(rate_rps, 500.0, 0.0)

    spec = load_hpa(SEED)
    steps = run_ladder(Broken(), PROFILES["ci"], p95_target_ms=100)
    assert len(steps) == 1
    report = analyse(spec, steps, profile="ci", startup_s=[])
    assert report.answers is None and not report.conclusive
    assert json.loads(write_report(report, tmp_path)["json"].read_text())["conclusive"] is False


def test_local_prediction_scales_with_the_time_scale() -> None:
    spec = load_hpa(SEED)
    spike = Spike(baseline_rps=150, peak_rps=2000, at_s=120, hold_s=600, after_s=60)
    plain, st1 = predict_local(
        spec,
        LocalSpikePlan(spike, time_scale=1.0, period_s=15, rate_window_s=30),
        knee_per_replica_rps=300,
        startup_s=10,
    )
    fast_spike = Spike(baseline_rps=150, peak_rps=2000, at_s=12, hold_s=60, after_s=6)
    fast, st2 = predict_local(
        spec,
        LocalSpikePlan(fast_spike, time_scale=0.1, period_s=1.5, rate_window_s=3),
        knee_per_replica_rps=300,
        startup_s=1,
    )
    assert st1 is not None and st2 == pytest.approx(st1 * 0.1)
    assert fast.max_replicas() == plain.max_replicas()


def test_local_spike_predicted_vs_observed(tmp_path: Path) -> None:
    spec = load_hpa(SEED)
    report = analyse(
        spec, run_ladder(Model(), PROFILES["ci"], p95_target_ms=100), profile="ci", startup_s=[1.0]
    )
    t0 = 1_700_000_000.0
    ev: list[dict[str, Any]] = [
        {
            "t_wall": t0 + 27,
            "t_mono": 27,
            "kind": "scale.decision",
            "detail": {"region": "primary", "current": 3, "desired": 7},
        },
    ] + [
        {
            "t_wall": t0 + 29,
            "t_mono": 29,
            "kind": "replica.ready",
            "detail": {"region": "primary", "replica": f"api-primary-{i}"},
        }
        for i in range(3, 7)
    ]
    p95 = [(t0 + s, 20.0 if s < 20 or s >= 30 else 300.0) for s in range(0, 120)]
    plan = PROFILES["ci"].local_spike
    assert plan is not None
    attach_local_spike(
        report, spec, plan, ObservedSpike("primary", t0 + 20, ev, p95), local_max_replicas=12
    )
    assert report.local is not None
    assert report.local.observed_scale_time.scale_time_s == 10.0
    assert report.local.predicted_scale_time_s is not None
    assert max(p.replicas for p in report.local.predicted.points) <= 12
    paths = write_report(report, tmp_path)
    assert "observed scale time: 10.0 s" in paths["markdown"].read_text()
    assert paths["html"].read_text().count("data:image/png;base64,") == 3

"""Knee finding and capacity answers on synthetic step data."""

from __future__ import annotations

import pytest

from autoscaler.capacity import (
    Spike,
    StepResult,
    answer,
    find_knees,
    predict_scale_time,
)
from autoscaler.spec import load_hpa

SEED = "manifests/k8s/base/hpa.yaml"


def steps(replicas: int, rows: list[tuple[float, float, float | None, float | None]]):
    return [StepResult(replicas, o, a, p, e) for (o, a, p, e) in rows]


def test_knee_is_the_highest_rate_under_target_before_the_first_failure() -> None:
    data = steps(
        1,
        [
            (100, 100, 12.0, 0.0),
            (200, 199, 18.0, 0.0),
            (300, 298, 45.0, 0.002),
            (400, 396, 140.0, 0.0),  # p95 breaks
            (500, 470, 90.0, 0.0),  # a lucky step above a failure does not count
        ],
    )
    knee = find_knees(data)[1]
    assert knee.rps == 298
    assert knee.per_replica_rps == 298
    assert knee.bounded
    assert knee.why_next_failed is not None and "p95 140.0 ms" in knee.why_next_failed


def test_errors_at_one_percent_fail_a_step() -> None:
    knee = find_knees(steps(2, [(200, 200, 10, 0.0), (400, 400, 20, 0.01)]))[2]
    assert knee.rps == 200 and knee.per_replica_rps == 100
    assert "errors" in (knee.why_next_failed or "")


def test_unsorted_input_and_several_replica_counts() -> None:
    data = steps(2, [(600, 600, 50, 0), (200, 200, 10, 0), (800, 700, 60, 0)]) + steps(
        1, [(300, 300, 80, 0), (100, 100, 5, 0)]
    )
    knees = find_knees(data)
    assert knees[1].rps == 300 and not knees[1].bounded  # nothing failed: a lower bound
    # 700 of 800 offered = 87.5 % < 90 %: not proven
    assert knees[2].rps == 600 and "achieved 700 of 800" in (knees[2].why_next_failed or "")


def test_missing_figures_are_never_a_pass() -> None:
    knee = find_knees(steps(1, [(100, 100, None, 0.0), (200, 200, 10, 0)]))[1]
    assert knee.rps is None and knee.per_replica_rps is None
    assert knee.why_next_failed == "no latency or error figures"


def test_custom_p95_target() -> None:
    data = steps(1, [(100, 100, 30, 0), (200, 200, 60, 0)])
    assert find_knees(data, p95_target_ms=50)[1].rps == 100
    assert find_knees(data, p95_target_ms=100)[1].rps == 200


def test_answers_for_the_seed_hpa() -> None:
    spec = load_hpa(SEED)
    a = answer(298.0, spec, target_rps=5000, replica_counts_measured=[1, 1, 1])
    assert a.replicas_needed == 17  # ceil(5000 / 298)
    assert a.hpa_target_rps_per_pod == 100
    assert a.hpa_replicas_for_target == 50
    assert a.hpa_target_consistent is True  # 110 req/s (target + tolerance) < 298
    assert a.max_replicas_consistent is True  # 50 >= max(17, 50)
    assert a.capacity_at_max_rps == pytest.approx(14900)
    assert any("exactly maxReplicas" in n for n in a.notes)
    assert any("linear scaling" in n for n in a.notes)


def test_answers_flag_a_knee_below_the_hpa_target() -> None:
    spec = load_hpa(SEED)
    a = answer(90.0, spec, target_rps=5000)
    assert a.hpa_target_consistent is False
    assert a.replicas_needed == 56
    assert a.max_replicas_consistent is False  # 50 < 56


def test_predicted_scale_time_uses_the_simulator() -> None:
    spec = load_hpa(SEED)
    p = predict_scale_time(
        spec,
        Spike(baseline_rps=300, peak_rps=5000, at_s=120, hold_s=600, after_s=60),
        knee_per_replica_rps=400,
        startup_s=10,
        saturation_rps=450,
    )
    assert p.first_scale_s == 60  # the 60 s up-window
    assert p.scale_time_s == 85  # see test_hpa_simulator for the arithmetic

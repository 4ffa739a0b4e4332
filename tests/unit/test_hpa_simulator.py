"""The simulator: known capacity and start-up time give a known predicted scale time."""

from __future__ import annotations

from typing import Any

import pytest

from autoscaler.simulator import LoadPhase, ReplicaModel, SimConfig, simulate
from autoscaler.spec import load_hpa, parse_spec

SEED = "manifests/k8s/base/hpa.yaml"


def simple_spec() -> Any:
    """Only req/s, no up-window, +100 pods per 15 s: the scale time is pure arithmetic."""
    doc = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "api"},
            "minReplicas": 3,
            "maxReplicas": 50,
            "metrics": [
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "http_requests_per_second"},
                        "target": {"type": "AverageValue", "averageValue": "100"},
                    },
                }
            ],
            "behavior": {
                "scaleUp": {
                    "stabilizationWindowSeconds": 0,
                    "policies": [{"type": "Pods", "value": 100, "periodSeconds": 15}],
                }
            },
        },
    }
    return parse_spec(doc, "test")


@pytest.mark.parametrize(("startup_s", "expected_s"), [(0.0, 15.0), (20.0, 35.0)])
def test_scale_time_is_next_sync_plus_startup(startup_s: float, expected_s: float) -> None:
    # step at t=30 (a sync instant, which still sees the old load); the next sync at 45 sees
    # 3 replicas saturated at 1,000 req/s -> ceil(10 x 3) = 30 replicas, ready `startup_s` later
    result = simulate(
        simple_spec(),
        [LoadPhase(0, 300), LoadPhase(30, 5000)],
        ReplicaModel(capacity_rps=1000, startup_s=startup_s, metrics_delay_s=0),
        SimConfig(duration_s=120, metric_window_s=1),
    )
    assert result.first_scale_s(30) == 15
    assert result.scale_time_s(30) == expected_s
    ups = [(d.t, d.current, d.desired) for d in result.decisions if d.desired != d.current]
    assert ups[0] == (45.0, 3, 30)  # later 30 -> 50: 166 req/s per pod is above the 100 target


def test_seed_hpa_scale_time_for_a_step_to_5000_rps() -> None:
    # knee 400 req/s/replica, saturating at 450, 10 s start-up, step at t=120 from 300 req/s.
    # The 60 s up-window holds until every recommendation in it saw the spike: first scale at
    # 180 (3 -> 7 by +4 pods); 195: 7 -> 14 (+100 %); 14 x 400 = 5,600 >= 5,000 once the 14
    # are ready at 205: 85 s after the step.
    result = simulate(
        load_hpa(SEED),
        [LoadPhase(0, 300), LoadPhase(120, 5000)],
        ReplicaModel(capacity_rps=400, startup_s=10, saturation_rps=450),
        SimConfig(duration_s=400),
    )
    assert set(result.dropped_metrics) == {"cpu_utilization", "memory_utilization"}
    ups = [(d.t, d.current, d.desired) for d in result.decisions if d.desired > d.current]
    assert ups[:2] == [(180.0, 3, 7), (195.0, 7, 14)]
    assert result.scale_time_s(120) == 85.0
    assert result.max_replicas() == 50  # 100 req/s per pod asks for 50 in the end


def test_a_spike_shorter_than_the_up_window_never_scales() -> None:
    # the seed's k6 spike lasts 30 s: the 60 s stabilisation window outlasts it
    result = simulate(
        load_hpa(SEED),
        [LoadPhase(0, 300), LoadPhase(120, 5000), LoadPhase(150, 300)],
        ReplicaModel(capacity_rps=400, startup_s=10, saturation_rps=450),
        SimConfig(duration_s=400),
    )
    assert result.max_replicas() == 3
    # p95 was broken for the whole spike; it recovered only because the load went away
    assert result.scale_time_s(120) is None


def test_scale_down_after_the_load_follows_the_seed_policy() -> None:
    result = simulate(
        load_hpa(SEED),
        [LoadPhase(0, 300), LoadPhase(60, 5000), LoadPhase(600, 300)],
        ReplicaModel(capacity_rps=400, startup_s=10, saturation_rps=450),
        SimConfig(duration_s=1500),
    )
    downs = [d for d in result.decisions if d.desired < d.current]
    assert downs, "replicas come down in the end"
    assert downs[0].t >= 600 + 300  # the 300 s down-window
    for d in downs:
        assert d.current - d.desired <= max(1, int(d.current * 0.1) + 1)
    gaps = [b.t - a.t for a, b in zip(downs, downs[1:], strict=False)]
    assert all(g >= 60 for g in gaps)  # one 10 % step per 60 s period


def test_cpu_model_drives_scaling_when_it_is_the_tighter_metric() -> None:
    # 10 ms CPU per request on a 1,000 m request: 100 req/s = 100 % CPU, target 70 %
    spec = load_hpa(SEED)
    model = ReplicaModel(
        capacity_rps=400,
        startup_s=0,
        saturation_rps=450,
        cpu_seconds_per_request=0.01,
        memory_utilization=30.0,
    )
    result = simulate(spec, [LoadPhase(0, 300)], model, SimConfig(duration_s=300))
    assert result.dropped_metrics == ()
    # 300 req/s over 3 = 100 req/s each = 100 % CPU -> ceil(100/70 x 3) = 5 once the window passes
    assert result.points[-1].replicas == 5


def test_bad_model_is_refused() -> None:
    with pytest.raises(ValueError):
        simulate(simple_spec(), [LoadPhase(0, 1)], ReplicaModel(0, 1), SimConfig(10))

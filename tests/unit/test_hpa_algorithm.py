"""The HPA algorithm against the behaviours the Kubernetes documentation describes."""

from __future__ import annotations

from typing import Any

import pytest

from autoscaler.algorithm import HorizontalAutoscaler, Replica, Settings
from autoscaler.spec import load_hpa, parse_spec

RPS = "http_requests_per_second"
SEED = "manifests/k8s/base/hpa.yaml"


def hpa(
    *,
    metrics: list[dict[str, Any]] | None = None,
    up: dict[str, Any] | None = None,
    down: dict[str, Any] | None = None,
    min_replicas: int = 1,
    max_replicas: int = 100,
    behavior: bool = True,
) -> HorizontalAutoscaler:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
        "minReplicas": min_replicas,
        "maxReplicas": max_replicas,
        "metrics": metrics
        or [
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": RPS},
                    "target": {"type": "AverageValue", "averageValue": "100"},
                },
            }
        ],
    }
    if behavior:
        spec["behavior"] = {
            "scaleUp": up or {"stabilizationWindowSeconds": 0},
            "scaleDown": down or {"stabilizationWindowSeconds": 0},
        }
    doc = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "spec": spec}
    return HorizontalAutoscaler(parse_spec(doc, "test"))


def cpu_metric(target: int) -> dict[str, Any]:
    return {
        "type": "Resource",
        "resource": {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": target},
        },
    }


def ready(n: int) -> list[Replica]:
    return [Replica(f"r{i}") for i in range(n)]


def rps(*values: float) -> dict[str, dict[str, float]]:
    return {f"r{i}": {RPS: v} for i, v in enumerate(values)}


def step(a: HorizontalAutoscaler, now: float, current: int, replicas, samples) -> int:
    d = a.reconcile(now=now, current_replicas=current, replicas=replicas, samples=samples)
    if d.rescale:
        a.scaled(now, d.current, d.desired)
    return d.desired


# -- the basic formula and the tolerance -------------------------------------------------


def test_within_tolerance_keeps_the_count() -> None:
    a = hpa()
    d = a.reconcile(now=0, current_replicas=3, replicas=ready(3), samples=rps(108, 108, 108))
    assert (d.metric_desired, d.desired) == (3, 3)


def test_outside_tolerance_is_ceil_of_ratio_times_replicas() -> None:
    a = hpa()
    d = a.reconcile(now=0, current_replicas=3, replicas=ready(3), samples=rps(112, 112, 112))
    assert d.desired == 4  # ceil(1.12 * 3)
    a = hpa()
    d = a.reconcile(now=0, current_replicas=4, replicas=ready(4), samples=rps(20, 20, 20, 20))
    assert d.desired == 1  # ceil(0.2 * 4)


def test_utilization_is_truncated_to_whole_percent() -> None:
    a = hpa(metrics=[cpu_metric(70)])
    samples = {f"r{i}": {"cpu_utilization": v} for i, v in enumerate((80.0, 80.0, 81.0))}
    d = a.reconcile(now=0, current_replicas=3, replicas=ready(3), samples=samples)
    assert d.outcomes[0].current == 80  # 80.33 truncated
    assert d.desired == 4  # ceil(80/70 * 3)


def test_the_maximum_over_metrics_wins() -> None:
    a = hpa(metrics=[cpu_metric(70), hpa().spec.metrics[0].model_dump(exclude_none=True)])
    samples = {f"r{i}": {"cpu_utilization": 90.0, RPS: 200.0} for i in range(3)}
    d = a.reconcile(now=0, current_replicas=3, replicas=ready(3), samples=samples)
    assert [o.proposal for o in d.outcomes] == [4, 6]
    assert d.desired == 6
    assert "http_requests_per_second above target" in d.reason


# -- min / max ---------------------------------------------------------------------------


def test_max_replicas_caps_a_large_desire() -> None:
    a = hpa(
        max_replicas=10,
        up={
            "stabilizationWindowSeconds": 0,
            "policies": [{"type": "Pods", "value": 100, "periodSeconds": 15}],
        },
    )
    d = a.reconcile(now=0, current_replicas=5, replicas=ready(5), samples=rps(*[1000] * 5))
    assert (d.metric_desired, d.desired, d.limit) == (50, 10, "TooManyReplicas")


def test_min_replicas_floors_a_small_desire() -> None:
    a = hpa(
        min_replicas=3,
        down={
            "stabilizationWindowSeconds": 0,
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        },
    )
    d = a.reconcile(now=0, current_replicas=6, replicas=ready(6), samples=rps(*[1] * 6))
    assert (d.metric_desired, d.desired, d.limit) == (1, 3, "TooFewReplicas")


def test_current_outside_bounds_is_brought_back_without_metrics() -> None:
    a = hpa(min_replicas=3, max_replicas=10)
    assert a.reconcile(now=0, current_replicas=2, replicas=ready(2), samples={}).desired == 3
    assert a.reconcile(now=0, current_replicas=12, replicas=ready(12), samples={}).desired == 10


# -- scale-up policies and selectPolicy --------------------------------------------------

SEED_UP = [
    {"type": "Percent", "value": 100, "periodSeconds": 15},
    {"type": "Pods", "value": 4, "periodSeconds": 15},
]


@pytest.mark.parametrize(
    ("select", "current", "expected"),
    [("Max", 3, 7), ("Min", 3, 6), ("Max", 10, 20), ("Min", 10, 14)],
)
def test_scale_up_is_capped_by_policies(select: str, current: int, expected: int) -> None:
    a = hpa(up={"stabilizationWindowSeconds": 0, "policies": SEED_UP, "selectPolicy": select})
    d = a.reconcile(
        now=0, current_replicas=current, replicas=ready(current), samples=rps(*[1000] * current)
    )
    assert d.desired == expected
    assert d.limit == "ScaleUpLimit"


def test_scale_up_policy_counts_changes_within_its_period() -> None:
    a = hpa(up={"stabilizationWindowSeconds": 0, "policies": SEED_UP, "selectPolicy": "Max"})
    assert step(a, 0, 3, ready(3), rps(*[1000] * 3)) == 7
    # 10 s later the period still holds the +4: the limit is still computed from 3
    assert step(a, 10, 7, ready(7), rps(*[1000] * 7)) == 7
    # a full period later the event has aged out: from 7, max(14, 11)
    assert step(a, 15, 7, ready(7), rps(*[1000] * 7)) == 14


def test_select_policy_disabled_blocks_that_direction() -> None:
    a = hpa(up={"selectPolicy": "Disabled"})
    d = a.reconcile(now=0, current_replicas=3, replicas=ready(3), samples=rps(500, 500, 500))
    assert (d.metric_desired, d.desired) == (15, 3)
    a = hpa(down={"selectPolicy": "Disabled", "stabilizationWindowSeconds": 0})
    d = a.reconcile(now=0, current_replicas=6, replicas=ready(6), samples=rps(*[10] * 6))
    assert (d.metric_desired, d.desired) == (1, 6)


def test_scale_down_select_min_takes_the_smaller_change() -> None:
    policies = [
        {"type": "Pods", "value": 5, "periodSeconds": 60},
        {"type": "Percent", "value": 10, "periodSeconds": 60},
    ]
    low = rps(*[1] * 20)
    a = hpa(down={"stabilizationWindowSeconds": 0, "policies": policies, "selectPolicy": "Min"})
    assert a.reconcile(now=0, current_replicas=20, replicas=ready(20), samples=low).desired == 18
    a = hpa(down={"stabilizationWindowSeconds": 0, "policies": policies, "selectPolicy": "Max"})
    assert a.reconcile(now=0, current_replicas=20, replicas=ready(20), samples=low).desired == 15


# -- stabilisation -----------------------------------------------------------------------


def test_scale_down_is_held_by_the_300_s_window_then_follows_the_policy() -> None:
    a = HorizontalAutoscaler(load_hpa(SEED))
    replicas = ready(10)
    high = {
        f"r{i}": {RPS: 100.0, "cpu_utilization": 50.0, "memory_utilization": 40.0}
        for i in range(10)
    }
    low = {
        f"r{i}": {RPS: 5.0, "cpu_utilization": 5.0, "memory_utilization": 5.0} for i in range(10)
    }
    current = step(a, 0, 10, replicas, high)
    assert current == 10
    timeline = {}
    for t in range(15, 721, 15):
        replicas = ready(current)
        samples = {k: v for k, v in low.items() if int(k[1:]) < current}
        current = step(a, t, current, replicas, samples)
        timeline[t] = current
    assert all(timeline[t] == 10 for t in range(15, 300, 15))  # the window holds 10
    # then -10 % per 60 s (int truncation), never faster
    checkpoints = (300, 345, 360, 420, 480, 540, 600, 660, 720)
    assert [timeline[t] for t in checkpoints] == [9, 9, 8, 7, 6, 5, 4, 3, 3]


def test_scale_up_waits_for_the_whole_up_window() -> None:
    a = hpa(up={"stabilizationWindowSeconds": 60, "policies": SEED_UP})
    assert step(a, 0, 3, ready(3), rps(100, 100, 100)) == 3
    seen = [step(a, t, 3, ready(3), rps(400, 400, 400)) for t in (15, 30, 45, 60)]
    # the calm recommendation at t=0 holds 3 until it is a full window old (strictly older)
    assert seen == [3, 3, 3, 7]


# -- missing metrics and unready replicas ------------------------------------------------


def test_missing_replica_counts_as_zero_on_scale_up() -> None:
    a = hpa()
    d = a.reconcile(now=0, current_replicas=4, replicas=ready(4), samples=rps(130, 130, 130))
    # 1.3 without the missing one; with it at 0: 390/4 = 97.5 -> inside the tolerance
    assert d.desired == 4
    d = hpa().reconcile(now=0, current_replicas=3, replicas=ready(3), samples=rps(130, 130, 130))
    assert d.desired == 4  # control: ceil(1.3 * 3)


def test_missing_replica_counts_as_100_percent_on_scale_down() -> None:
    a = hpa(metrics=[cpu_metric(50)])
    samples = {f"r{i}": {"cpu_utilization": 30.0} for i in range(3)}
    d = a.reconcile(now=0, current_replicas=4, replicas=ready(4), samples=samples)
    assert d.desired == 4  # (30*3 + 100) / 4 = 47 % -> 0.94, inside the tolerance
    d = hpa(metrics=[cpu_metric(50)]).reconcile(
        now=0, current_replicas=3, replicas=ready(3), samples=samples
    )
    assert d.desired == 2  # control: ceil(0.6 * 3)


def test_missing_replica_counts_as_target_for_average_values_on_scale_down() -> None:
    a = hpa()
    d = a.reconcile(now=0, current_replicas=4, replicas=ready(4), samples=rps(40, 40, 40))
    assert d.desired == 3  # (120 + 100) / 4 = 55 -> ceil(0.55 * 4)
    d = hpa().reconcile(now=0, current_replicas=3, replicas=ready(3), samples=rps(40, 40, 40))
    assert d.desired == 2  # control: ceil(0.4 * 3)


def test_no_samples_at_all_means_no_scaling() -> None:
    a = hpa()
    d = a.reconcile(now=0, current_replicas=4, replicas=ready(4), samples={})
    assert (d.desired, d.limit, d.metric_desired) == (4, "InvalidMetrics", None)


def test_an_invalid_metric_blocks_scale_down_but_not_scale_up() -> None:
    metrics = [cpu_metric(70), hpa().spec.metrics[0].model_dump(exclude_none=True)]
    d = hpa(metrics=metrics).reconcile(
        now=0, current_replicas=6, replicas=ready(6), samples=rps(*[10] * 6)
    )
    assert (d.desired, d.limit) == (6, "InvalidMetrics")
    d = hpa(metrics=metrics).reconcile(
        now=0, current_replicas=3, replicas=ready(3), samples=rps(300, 300, 300)
    )
    assert d.desired == 7  # default scale-up policy max(+4 pods, +100 %) caps the 9 asked for


def test_pending_replicas_count_as_zero_on_scale_up() -> None:
    a = hpa(
        up={
            "stabilizationWindowSeconds": 0,
            "policies": [{"type": "Pods", "value": 100, "periodSeconds": 15}],
        }
    )
    replicas = ready(3) + [
        Replica("p0", phase="pending", ready=False),
        Replica("p1", phase="pending", ready=False),
    ]
    d = a.reconcile(now=0, current_replicas=5, replicas=replicas, samples=rps(300, 300, 300))
    assert d.desired == 9  # 900 / 5 = 180 -> ceil(1.8 * 5); ignoring them would give 9 too
    d = a.reconcile(now=15, current_replicas=5, replicas=replicas, samples=rps(150, 150, 150))
    assert d.desired == 5  # 450 / 5 = 90: the pending ones flip the direction -> keep


def test_pending_replicas_are_left_out_on_scale_down() -> None:
    a = hpa()
    replicas = ready(3) + [Replica("p0", phase="pending", ready=False)]
    d = a.reconcile(now=0, current_replicas=4, replicas=replicas, samples=rps(50, 50, 50))
    assert d.desired == 2  # ceil(0.5 * 3)


def test_cpu_sample_of_a_fresh_replica_is_ignored_until_one_window_after_ready() -> None:
    a = HorizontalAutoscaler(hpa(metrics=[cpu_metric(50)]).spec, Settings(metric_window_s=30))
    fresh = Replica("r2", started_at=90.0, ready_changed_at=95.0)
    samples = {
        "r0": {"cpu_utilization": 100.0},
        "r1": {"cpu_utilization": 100.0},
        "r2": {"cpu_utilization": 0.0},
    }
    d = a.reconcile(now=100, current_replicas=3, replicas=ready(2) + [fresh], samples=samples)
    # r2 unready for CPU -> 0 on scale-up: 200/3 = 66 % -> ratio 1.32 -> ceil(3.96) = 4
    assert d.desired == 4
    d = a.reconcile(now=130, current_replicas=3, replicas=ready(2) + [fresh], samples=samples)
    assert d.desired == 4  # now counted with its own 0 %: same mean
    assert d.outcomes[0].current == 66


def test_no_behavior_block_uses_the_legacy_rules() -> None:
    a = hpa(behavior=False)
    d = a.reconcile(now=0, current_replicas=3, replicas=ready(3), samples=rps(1000, 1000, 1000))
    assert (d.desired, d.limit) == (6, "ScaleUpLimit")  # max(2 x 3, 4)


# -- the seed's HPA: from 3 replicas under heavy load ------------------------------------


def test_seed_hpa_from_3_replicas_under_heavy_load() -> None:
    """5,000 req/s on 3 ready replicas, controller started with the load already there."""
    a = HorizontalAutoscaler(load_hpa(SEED))
    current = 3
    timeline = {}
    for t in range(0, 151, 15):
        replicas = ready(current)
        per = 5000.0 / current
        samples = {
            r.name: {RPS: per, "cpu_utilization": 60.0, "memory_utilization": 40.0}
            for r in replicas
        }
        current = step(a, t, current, replicas, samples)
        timeline[t] = current
    assert timeline == {
        0: 3,
        15: 3,
        30: 3,
        45: 3,  # the 60 s up-window still holds the initial 3
        60: 7,  # max(+100 % = 6, +4 pods = 7)
        75: 14,
        90: 28,  # doubling every 15 s period
        105: 50,
        120: 50,
        135: 50,
        150: 50,  # maxReplicas
    }

"""Offline validation of the bundled overlays, and proof that it can fail:
removing a required field, adding an unknown one, or using an unknown kind
is reported, naming the object and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from failover.config import parse_config
from gameday.k8s.lint import lint
from gameday.k8s.overlays import OVERLAYS_DIR, check_objects, list_overlays
from gameday.k8s.render import apply_json_patch, render
from gameday.k8s.validate import custom_kinds, validate_objects

SEED = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "k8s" / "seed-manifests.yaml"


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: render(OVERLAYS_DIR / name) for name in list_overlays()}


@pytest.mark.parametrize("overlay", ["primary", "secondary", "dev"])
def test_every_overlay_validates_and_lints_clean(rendered: dict, overlay: str) -> None:
    objects = rendered[overlay]
    assert len(objects) > 30
    assert check_objects(objects) == []


def test_every_custom_kind_in_the_overlays_has_a_schema(rendered: dict) -> None:
    used = {(o["apiVersion"], o["kind"]) for objs in rendered.values() for o in objs}
    custom = set(custom_kinds())
    expected = {
        ("postgresql.cnpg.io/v1", "Cluster"),
        ("postgresql.cnpg.io/v1", "ScheduledBackup"),
        ("redis.redis.opstreelabs.in/v1beta2", "RedisCluster"),
        ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("monitoring.coreos.com/v1", "PodMonitor"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
    }
    assert expected <= used and expected == custom


def _mutated(objects: list[dict], kind: str, name: str, ops: list[dict]) -> list[dict]:
    out = copy.deepcopy(objects)
    hits = [i for i, o in enumerate(out) if o["kind"] == kind and o["metadata"]["name"] == name]
    assert hits, f"no {kind} {name} in the render"
    for i in hits:
        out[i] = apply_json_patch(out[i], ops)
    return out


# (kind, name, JSON patch, text the problem must contain): one required field
# removed or one wrong field added per built-in and custom kind.
SCHEMA_BREAKS = [
    (
        "Deployment",
        "twinme-api-primary",
        [{"op": "remove", "path": "/spec/selector"}],
        "'selector' is a required property",
    ),
    (
        "Deployment",
        "twinme-api-primary",
        [{"op": "remove", "path": "/spec/template/spec/containers/0/name"}],
        "'name' is a required property",
    ),
    (
        "Deployment",
        "twinme-api-primary",
        [{"op": "add", "path": "/spec/replicaz", "value": 3}],
        "replicaz",
    ),
    (
        "HorizontalPodAutoscaler",
        "twinme-api-primary-hpa",
        [{"op": "remove", "path": "/spec/maxReplicas"}],
        "'maxReplicas' is a required property",
    ),
    (
        "Ingress",
        "twinme-api-ingress",
        [{"op": "remove", "path": "/spec/rules/0/http/paths/0/pathType"}],
        "'pathType' is a required property",
    ),
    (
        "Role",
        "failover-controller",
        [{"op": "remove", "path": "/rules/0/verbs"}],
        "'verbs' is a required property",
    ),
    (
        "CronJob",
        "gameday-nightly",
        [{"op": "remove", "path": "/spec/schedule"}],
        "'schedule' is a required property",
    ),
    (
        "PodDisruptionBudget",
        "twinme-api-primary",
        [{"op": "add", "path": "/spec/maxUnavailible", "value": 1}],
        "maxUnavailible",
    ),
    (
        "Cluster",
        "twinme-postgres",
        [{"op": "remove", "path": "/spec/instances"}],
        "'instances' is a required property",
    ),
    (
        "Cluster",
        "twinme-postgres",
        [{"op": "add", "path": "/spec/monitoring", "value": {"enabled": True}}],
        "'enabled' was unexpected",
    ),
    (
        "Cluster",
        "twinme-postgres",
        [{"op": "remove", "path": "/spec/backup/barmanObjectStore/destinationPath"}],
        "'destinationPath' is a required property",
    ),
    (
        "PodMonitor",
        "twinme-postgres",
        [{"op": "remove", "path": "/spec/podMetricsEndpoints"}],
        "'podMetricsEndpoints' is a required property",
    ),
    (
        "ScheduledBackup",
        "twinme-postgres-daily",
        [{"op": "replace", "path": "/spec/schedule", "value": "0 2 * * *"}],
        "does not match",
    ),
    (
        "RedisCluster",
        "twinme-redis",
        [{"op": "remove", "path": "/spec/kubernetesConfig"}],
        "'kubernetesConfig' is a required property",
    ),
    (
        "RedisCluster",
        "twinme-redis",
        [{"op": "add", "path": "/spec/config", "value": {"timeout": "0"}}],
        "'config' was unexpected",
    ),
    (
        "RedisCluster",
        "twinme-redis",
        [{"op": "add", "path": "/spec/nodeSelector", "value": {"node-type": "redis"}}],
        "'nodeSelector' was unexpected",
    ),
    (
        "VerticalPodAutoscaler",
        "twinme-api-primary-vpa",
        [{"op": "remove", "path": "/spec/targetRef"}],
        "'targetRef' is a required property",
    ),
    (
        "ServiceMonitor",
        "twinme-api",
        [{"op": "remove", "path": "/spec/endpoints"}],
        "'endpoints' is a required property",
    ),
    (
        "PrometheusRule",
        "twinme-slo",
        [{"op": "remove", "path": "/spec/groups/1/rules/0/expr"}],
        "'expr' is a required property",
    ),
    (
        "PrometheusRule",
        "twinme-slo",
        [{"op": "replace", "path": "/spec/groups/1/rules/0/for", "value": "2 minutes"}],
        "does not match",
    ),
]


@pytest.mark.parametrize(
    "kind, name, ops, expected", SCHEMA_BREAKS, ids=lambda v: v if isinstance(v, str) else None
)
def test_schema_validation_fails_when_a_field_is_broken(
    rendered: dict, kind: str, name: str, ops: list[dict], expected: str
) -> None:
    problems = validate_objects(_mutated(rendered["primary"], kind, name, ops))
    assert len(problems) >= 1
    assert any(expected in p and name in p and kind in p for p in problems), problems


def test_unknown_kinds_are_rejected_not_passed(rendered: dict) -> None:
    mystery = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "twinme-prod"},
        "spec": {},
    }
    old_redis = copy.deepcopy(next(o for o in rendered["primary"] if o["kind"] == "RedisCluster"))
    old_redis["apiVersion"] = "redis.redis.opstreelabs.in/v1beta1"
    problems = validate_objects([mystery, old_redis])
    assert len(problems) == 2
    assert "unknown kind Widget (example.com/v1)" in problems[0]
    assert "unknown kind RedisCluster (redis.redis.opstreelabs.in/v1beta1)" in problems[1]


def test_the_seeds_manifests_fail_for_the_documented_defects() -> None:
    seed = [d for d in yaml.safe_load_all(SEED.read_text()) if d]
    assert len(seed) == 10
    text = "\n".join(validate_objects(seed) + lint(seed))
    expected = [
        "spec.monitoring: Additional properties are not allowed ('enabled' was unexpected)",
        "spec.backup.barmanObjectStore: Additional properties are not allowed ('region' was unexpected)",
        "unknown kind RedisCluster (redis.redis.opstreelabs.in/v1beta1)",
        "twinme/api:latest uses :latest",
        "oliver006/redis_exporter:latest uses :latest",
        "uses the deprecated kubernetes.io/ingress.class annotation",
        "'eu-west-3' is a region, not a zone",
        "'eu-central-1' is a region, not a zone",
        "no key 'PRIMARY_DB_URL' in ConfigMap region-config",
        "no key 'SECONDARY_DB_URL' in ConfigMap region-config",
        "HorizontalPodAutoscaler twinme-prod/twinme-api-hpa: spec.scaleTargetRef: no Deployment twinme-prod/twinme-api",
        "twinme-api-primary: spec.template.spec.containers[0] (api): no readinessProbe",
        "twinme-api-primary: spec.template.spec.containers[0] (api): runAsNonRoot is not true",
        "twinme-api-secondary: spec.template.spec.containers[0] (api): no requests.cpu",
        "failover-rbac: no Role named failover-controller",
    ]
    missing = [e for e in expected if e not in text]
    assert missing == [], text


def test_the_hpa_keeps_the_seeds_values(rendered: dict) -> None:
    """base/hpa.yaml is also read by the local autoscaler: it stays the seed's HPA."""
    seed_hpa = next(
        d
        for d in yaml.safe_load_all(SEED.read_text())
        if d and d["kind"] == "HorizontalPodAutoscaler"
    )
    base = yaml.safe_load((OVERLAYS_DIR.parent / "base" / "hpa.yaml").read_text())
    assert base == seed_hpa
    primary = next(o for o in rendered["primary"] if o["kind"] == "HorizontalPodAutoscaler")
    secondary = next(o for o in rendered["secondary"] if o["kind"] == "HorizontalPodAutoscaler")
    assert primary["spec"] == dict(
        seed_hpa["spec"],
        scaleTargetRef=dict(seed_hpa["spec"]["scaleTargetRef"], name="twinme-api-primary"),
    )
    assert secondary["spec"]["minReplicas"] == 2
    assert secondary["spec"]["metrics"] == seed_hpa["spec"]["metrics"]
    assert secondary["spec"]["behavior"] == seed_hpa["spec"]["behavior"]


@pytest.mark.parametrize("overlay", ["primary", "secondary", "dev"])
def test_failover_config_parses_with_the_controllers_own_schema(
    rendered: dict, overlay: str
) -> None:
    """The ConfigMap the controller reads is valid for failover/config.py."""
    config_map = next(
        o
        for o in rendered[overlay]
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "failover-config"
    )
    config = parse_config(
        yaml.safe_load(config_map["data"]["config.yaml"]), overlay
    )
    assert config.lock.kind == "kubernetes" and config.lock.name == "twinme-failover"
    assert config.kubernetes.in_cluster

"""Each lint rule fires on the defect it exists for, and only names that defect."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from gameday.k8s.lint import RULES, image_problem, lint
from gameday.k8s.overlays import OVERLAYS_DIR, list_overlays
from gameday.k8s.rbac import failover_controller_calls
from gameday.k8s.render import apply_json_patch, render


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: render(OVERLAYS_DIR / name) for name in list_overlays()}


def _mutated(objects: list[dict], kind: str, name: str, ops: list[dict]) -> list[dict]:
    out = copy.deepcopy(objects)
    hits = [i for i, o in enumerate(out) if o["kind"] == kind and o["metadata"]["name"] == name]
    assert hits, f"no {kind} {name}"
    for i in hits:
        out[i] = apply_json_patch(out[i], ops)
    return out


def _op(op: str, path: str, value: Any = None) -> dict[str, Any]:
    return {"op": op, "path": path} if op == "remove" else {"op": op, "path": path, "value": value}


API = ("Deployment", "twinme-api-primary")
C0 = "/spec/template/spec/containers/0"
CRON_C0 = "/spec/jobTemplate/spec/template/spec/containers/0"
FAILOVER_CONFIG = ("ConfigMap", "failover-config")

# (rule, overlay, kind, name, JSON patch, text one problem must contain)
CASES = [
    ("probes", "primary", *API, [_op("remove", f"{C0}/readinessProbe")], "no readinessProbe"),
    ("probes", "primary", *API, [_op("remove", f"{C0}/livenessProbe")], "no livenessProbe"),
    (
        "probes",
        "primary",
        "Deployment",
        "locust-worker",
        [_op("remove", "/metadata/annotations")],
        "locust-worker",
    ),
    (
        "resources",
        "primary",
        *API,
        [_op("remove", f"{C0}/resources/requests/cpu")],
        "no requests.cpu",
    ),
    (
        "resources",
        "primary",
        "CronJob",
        "gameday-nightly",
        [_op("remove", f"{CRON_C0}/resources/limits")],
        "no limits.memory",
    ),
    (
        "non-root",
        "primary",
        *API,
        [_op("remove", "/spec/template/spec/securityContext/runAsNonRoot")],
        "runAsNonRoot is not true",
    ),
    (
        "non-root",
        "primary",
        *API,
        [_op("replace", f"{C0}/securityContext/allowPrivilegeEscalation", True)],
        "allowPrivilegeEscalation",
    ),
    (
        "pinned-images",
        "primary",
        *API,
        [_op("replace", f"{C0}/image", "twinme/api:latest")],
        "uses :latest",
    ),
    (
        "pinned-images",
        "primary",
        *API,
        [_op("replace", f"{C0}/image", "registry:5000/twinme/api")],
        "has no tag",
    ),
    (
        "pinned-images",
        "primary",
        "RedisCluster",
        "twinme-redis",
        [_op("replace", "/spec/redisExporter/image", "oliver006/redis_exporter:latest")],
        "spec.redisExporter.image",
    ),
    (
        "failover-rbac",
        "primary",
        "Role",
        "failover-controller",
        [
            _op(
                "add",
                "/rules/-",
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "delete"]},
            )
        ],
        "grants delete on pods (core), which the controller never calls",
    ),
    (
        "failover-rbac",
        "primary",
        "Role",
        "failover-controller",
        [
            _op(
                "add",
                "/rules/-",
                {
                    "apiGroups": ["apps"],
                    "resources": ["deployments/scale"],
                    "resourceNames": ["twinme-api-primary"],
                    "verbs": ["patch"],
                },
            )
        ],
        "grants patch on deployments/scale (apps), which the controller never calls with this failover-config",
    ),
    (
        "failover-rbac",
        "primary",
        "Role",
        "failover-controller",
        [_op("replace", "/rules/0/verbs", ["*"])],
        "grants * on leases",
    ),
    (
        "failover-rbac",
        "primary",
        "Role",
        "failover-controller",
        [_op("remove", "/rules/0/resourceNames")],
        "get on leases (coordination.k8s.io) is not limited by resourceNames",
    ),
    (
        "failover-rbac",
        "primary",
        "Role",
        "failover-controller",
        [_op("remove", "/rules/1")],
        "does not grant create on leases (coordination.k8s.io), which the controller calls",
    ),
    (
        "failover-rbac",
        "primary",
        *FAILOVER_CONFIG,
        [
            _op(
                "replace",
                "/data/config.yaml",
                "lock: {kind: kubernetes, namespace: twinme-prod, name: other-lease}\n",
            )
        ],
        "get on leases (coordination.k8s.io) on ['twinme-failover'], which the controller never touches",
    ),
    (
        "failover-rbac",
        "dev",
        "Role",
        "failover-controller",
        [_op("remove", "/rules/2")],
        "does not grant patch on deployments/scale (apps) on ['twinme-api-primary', 'twinme-api-secondary']",
    ),
    (
        "failover-rbac",
        "dev",
        "Role",
        "failover-controller",
        [_op("replace", "/rules/4/resourceNames", ["twinme-api"])],
        "does not grant get on ingresses (networking.k8s.io) on ['twinme-api-ingress']",
    ),
    (
        "failover-rbac",
        "dev",
        *FAILOVER_CONFIG,
        [_op("remove", "/data/config.yaml")],
        "ConfigMap failover-config has no config.yaml",
    ),
    (
        "failover-rbac",
        "primary",
        "Deployment",
        "failover-controller",
        [_op("replace", "/spec/template/spec/serviceAccountName", "gameday-runner")],
        "runs as 'gameday-runner'",
    ),
    (
        "references",
        "primary",
        "HorizontalPodAutoscaler",
        "twinme-api-primary-hpa",
        [_op("replace", "/spec/scaleTargetRef/name", "twinme-api")],
        "no Deployment twinme-prod/twinme-api",
    ),
    (
        "references",
        "primary",
        "Ingress",
        "twinme-api-ingress",
        [_op("replace", "/spec/rules/0/http/paths/0/backend/service/name", "twinme-api")],
        "no Service twinme-prod/twinme-api",
    ),
    (
        "references",
        "primary",
        *API,
        [_op("replace", f"{C0}/env/1/valueFrom/configMapKeyRef/key", "DB_URL")],
        "no key 'DB_URL'",
    ),
    (
        "references",
        "primary",
        "PodDisruptionBudget",
        "twinme-api-primary",
        [_op("replace", "/spec/selector/matchLabels/region", "secondary")],
        "matches no pods",
    ),
    (
        "references",
        "primary",
        "ServiceMonitor",
        "twinme-api",
        [_op("replace", "/spec/endpoints/0/port", "metrics")],
        "no selected Service has port 'metrics'",
    ),
    (
        "references",
        "dev",
        "Role",
        "failover-controller",
        [_op("replace", "/rules/2/resourceNames", ["twinme-api-tertiary"])],
        "no Deployment twinme-prod/twinme-api-tertiary",
    ),
    (
        "references",
        "dev",
        "Service",
        "twinme-api-primary-lb",
        [_op("replace", "/metadata/labels/app", "twinme-api")],
        "selects 2 Services over the same pods (twinme-api-primary, twinme-api-primary-lb)",
    ),
    (
        "references",
        "primary",
        *API,
        [_op("replace", "/spec/selector/matchLabels/app", "api")],
        "does not match the template's labels",
    ),
    (
        "ingress",
        "primary",
        "Ingress",
        "twinme-api-ingress",
        [_op("add", "/metadata/annotations/kubernetes.io~1ingress.class", "nginx")],
        "deprecated",
    ),
    (
        "ingress",
        "primary",
        "Ingress",
        "twinme-api-ingress",
        [_op("remove", "/spec/tls")],
        "has no TLS",
    ),
    (
        "region-zone",
        "primary",
        *API,
        [
            _op(
                "replace",
                "/spec/template/spec/nodeSelector",
                {"topology.kubernetes.io/zone": "eu-west-3"},
            )
        ],
        "'eu-west-3' is a region",
    ),
    (
        "autoscaled-ha",
        "primary",
        *API,
        [_op("remove", "/spec/template/spec/topologySpreadConstraints/0")],
        "no topology spread",
    ),
    (
        "autoscaled-ha",
        "primary",
        "PodDisruptionBudget",
        "twinme-api-primary",
        [_op("replace", "/spec/selector/matchLabels", {"app": "locust"})],
        "no PodDisruptionBudget covers it",
    ),
]


@pytest.mark.parametrize("rule, overlay, kind, name, ops, expected", CASES)
def test_rule_fires_on_its_defect(
    rendered: dict, rule: str, overlay: str, kind: str, name: str, ops: list[dict], expected: str
) -> None:
    objects = rendered[overlay]
    assert RULES[rule](objects) == []
    problems = RULES[rule](_mutated(objects, kind, name, ops))
    assert problems, "the rule did not fire"
    assert all(p.startswith(f"{rule}: ") for p in problems)
    assert any(expected in p for p in problems), problems


def test_every_rule_is_exercised() -> None:
    assert {c[0] for c in CASES} == set(RULES)


def test_zones_are_not_mistaken_for_regions(rendered: dict) -> None:
    objs = _mutated(
        rendered["primary"],
        *API,
        [
            _op(
                "replace",
                "/spec/template/spec/nodeSelector",
                {"topology.kubernetes.io/zone": "eu-west-3a"},
            )
        ],
    )
    assert RULES["region-zone"](objs) == []


@pytest.mark.parametrize(
    "image, problem",
    [
        ("twinme/api:1.0.0", None),
        ("registry:5000/twinme/api:1.0.0", None),
        ("twinme/api@sha256:" + "a" * 64, None),
        ("twinme/api", "has no tag (means :latest)"),
        ("registry:5000/twinme/api", "has no tag (means :latest)"),
        ("twinme/api:latest", "uses :latest"),
    ],
)
def test_image_pinning(image: str, problem: str | None) -> None:
    assert image_problem(image) == problem


def test_calls_follow_the_failover_config() -> None:
    dev_like = {
        "traffic": {"kind": "k8s_ingress", "ingress": "ing"},
        "scaler": {"kind": "kubernetes", "deployments": {"a": "dep-a", "b": "dep-b"}},
        "lock": {"kind": "kubernetes"},
    }
    assert failover_controller_calls(dev_like) == {
        ("networking.k8s.io", "ingresses", "get"): frozenset({"ing"}),
        ("networking.k8s.io", "ingresses", "patch"): frozenset({"ing"}),
        ("apps", "deployments/scale", "patch"): frozenset({"dep-a", "dep-b"}),
        ("apps", "deployments/status", "get"): frozenset({"dep-a", "dep-b"}),
        ("coordination.k8s.io", "leases", "get"): frozenset({"gameday-failover"}),
        ("coordination.k8s.io", "leases", "update"): frozenset({"gameday-failover"}),
        ("coordination.k8s.io", "leases", "create"): None,
    }
    local = {"traffic": {"kind": "haproxy"}, "scaler": {"kind": "local"}, "lock": {"kind": "etcd"}}
    assert failover_controller_calls(local) == {}


@pytest.mark.parametrize("overlay", ["primary", "secondary", "dev"])
def test_failover_role_grants_exactly_the_controllers_calls(rendered: dict, overlay: str) -> None:
    objects = rendered[overlay]
    role = next(
        o for o in objects if o["kind"] == "Role" and o["metadata"]["name"] == "failover-controller"
    )
    config_map = next(
        o
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "failover-config"
    )
    needed = failover_controller_calls(yaml.safe_load(config_map["data"]["config.yaml"]))
    granted = {
        (g, r, v)
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    assert granted == set(needed)
    assert not any(v == "delete" or r == "pods" for _, r, v in granted)
    assert lint(objects) == []

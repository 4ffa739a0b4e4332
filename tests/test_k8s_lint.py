"""Each lint rule fires on the defect it exists for, and only names that defect."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gameday.k8s.lint import FAILOVER_CONTROLLER_CALLS, RULES, image_problem, lint
from gameday.k8s.overlays import OVERLAYS_DIR
from gameday.k8s.render import apply_json_patch, render


@pytest.fixture(scope="module")
def primary() -> list[dict[str, Any]]:
    return render(OVERLAYS_DIR / "primary")


def _mutated(objects: list[dict], kind: str, name: str, ops: list[dict]) -> list[dict]:
    out = copy.deepcopy(objects)
    hits = [i for i, o in enumerate(out) if o["kind"] == kind and o["metadata"]["name"] == name]
    assert hits, f"no {kind} {name}"
    for i in hits:
        out[i] = apply_json_patch(out[i], ops)
    return out


API = ("Deployment", "twinme-api-primary")
C0 = "/spec/template/spec/containers/0"
CASES = [
    ("probes", *API, [{"op": "remove", "path": f"{C0}/readinessProbe"}], "no readinessProbe"),
    ("probes", *API, [{"op": "remove", "path": f"{C0}/livenessProbe"}], "no livenessProbe"),
    (
        "probes",
        "Deployment",
        "locust-worker",
        [{"op": "remove", "path": "/metadata/annotations"}],
        "locust-worker",
    ),
    (
        "resources",
        *API,
        [{"op": "remove", "path": f"{C0}/resources/requests/cpu"}],
        "no requests.cpu",
    ),
    (
        "resources",
        "CronJob",
        "gameday-nightly",
        [
            {
                "op": "remove",
                "path": "/spec/jobTemplate/spec/template/spec/containers/0/resources/limits",
            }
        ],
        "no limits.memory",
    ),
    (
        "non-root",
        *API,
        [{"op": "remove", "path": "/spec/template/spec/securityContext/runAsNonRoot"}],
        "runAsNonRoot is not true",
    ),
    (
        "non-root",
        *API,
        [
            {
                "op": "replace",
                "path": f"{C0}/securityContext/allowPrivilegeEscalation",
                "value": True,
            }
        ],
        "allowPrivilegeEscalation",
    ),
    (
        "pinned-images",
        *API,
        [{"op": "replace", "path": f"{C0}/image", "value": "twinme/api:latest"}],
        "uses :latest",
    ),
    (
        "pinned-images",
        *API,
        [{"op": "replace", "path": f"{C0}/image", "value": "registry:5000/twinme/api"}],
        "has no tag",
    ),
    (
        "pinned-images",
        "RedisCluster",
        "twinme-redis",
        [
            {
                "op": "replace",
                "path": "/spec/redisExporter/image",
                "value": "oliver006/redis_exporter:latest",
            }
        ],
        "spec.redisExporter.image",
    ),
    (
        "failover-rbac",
        "Role",
        "failover-controller",
        [
            {
                "op": "add",
                "path": "/rules/-",
                "value": {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "delete"]},
            }
        ],
        "grants delete on pods (core), which the controller never calls",
    ),
    (
        "failover-rbac",
        "Role",
        "failover-controller",
        [{"op": "replace", "path": "/rules/1/verbs", "value": ["*"]}],
        "grants * on deployments/scale",
    ),
    (
        "failover-rbac",
        "Role",
        "failover-controller",
        [{"op": "remove", "path": "/rules/2/resourceNames"}],
        "patch on ingresses is not limited by resourceNames",
    ),
    (
        "failover-rbac",
        "Deployment",
        "failover-controller",
        [
            {
                "op": "replace",
                "path": "/spec/template/spec/serviceAccountName",
                "value": "gameday-runner",
            }
        ],
        "runs as 'gameday-runner'",
    ),
    (
        "references",
        "HorizontalPodAutoscaler",
        "twinme-api-hpa",
        [{"op": "replace", "path": "/spec/scaleTargetRef/name", "value": "twinme-api"}],
        "no Deployment twinme-prod/twinme-api",
    ),
    (
        "references",
        "Ingress",
        "twinme-api-ingress",
        [
            {
                "op": "replace",
                "path": "/spec/rules/0/http/paths/0/backend/service/name",
                "value": "twinme-api-lb",
            }
        ],
        "no Service twinme-prod/twinme-api-lb",
    ),
    (
        "references",
        *API,
        [{"op": "replace", "path": f"{C0}/env/1/valueFrom/configMapKeyRef/key", "value": "DB_URL"}],
        "no key 'DB_URL'",
    ),
    (
        "references",
        "PodDisruptionBudget",
        "twinme-api",
        [{"op": "replace", "path": "/spec/selector/matchLabels/app", "value": "twinme"}],
        "matches no pods",
    ),
    (
        "references",
        "ServiceMonitor",
        "twinme-api",
        [{"op": "replace", "path": "/spec/endpoints/0/port", "value": "metrics"}],
        "no selected Service has port 'metrics'",
    ),
    (
        "references",
        "Role",
        "failover-controller",
        [{"op": "replace", "path": "/rules/1/resourceNames", "value": ["twinme-api-secondary"]}],
        "no Deployment twinme-prod/twinme-api-secondary",
    ),
    (
        "ingress",
        "Ingress",
        "twinme-api-ingress",
        [
            {
                "op": "add",
                "path": "/metadata/annotations/kubernetes.io~1ingress.class",
                "value": "nginx",
            }
        ],
        "deprecated",
    ),
    (
        "ingress",
        "Ingress",
        "twinme-api-ingress",
        [{"op": "remove", "path": "/spec/tls"}],
        "has no TLS",
    ),
    (
        "region-zone",
        *API,
        [
            {
                "op": "replace",
                "path": "/spec/template/spec/nodeSelector",
                "value": {"topology.kubernetes.io/zone": "eu-west-3"},
            }
        ],
        "'eu-west-3' is a region",
    ),
    (
        "autoscaled-ha",
        *API,
        [{"op": "remove", "path": "/spec/template/spec/topologySpreadConstraints/0"}],
        "no topology spread",
    ),
    (
        "autoscaled-ha",
        "PodDisruptionBudget",
        "twinme-api",
        [{"op": "replace", "path": "/spec/selector/matchLabels", "value": {"app": "locust"}}],
        "no PodDisruptionBudget covers it",
    ),
]


@pytest.mark.parametrize("rule, kind, name, ops, expected", CASES)
def test_rule_fires_on_its_defect(
    primary: list[dict], rule: str, kind: str, name: str, ops: list[dict], expected: str
) -> None:
    assert RULES[rule](primary) == []
    problems = RULES[rule](_mutated(primary, kind, name, ops))
    assert problems, "the rule did not fire"
    assert all(p.startswith(f"{rule}: ") for p in problems)
    assert any(expected in p for p in problems), problems


def test_every_rule_is_exercised() -> None:
    assert {c[0] for c in CASES} == set(RULES)


def test_zones_are_not_mistaken_for_regions(primary: list[dict]) -> None:
    objs = _mutated(
        primary,
        *API,
        [
            {
                "op": "replace",
                "path": "/spec/template/spec/nodeSelector",
                "value": {"topology.kubernetes.io/zone": "eu-west-3a"},
            }
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


def test_failover_role_grants_exactly_the_controllers_calls(primary: list[dict]) -> None:
    role = next(
        o for o in primary if o["kind"] == "Role" and o["metadata"]["name"] == "failover-controller"
    )
    granted = {
        (g, r, v)
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    assert granted == set(FAILOVER_CONTROLLER_CALLS)
    assert lint(primary) == []


def test_double_scraping_and_selector_mismatch_are_caught(primary: list[dict]) -> None:
    objs = _mutated(
        primary,
        "Service",
        "twinme-api-primary-lb",
        [{"op": "replace", "path": "/metadata/labels/app", "value": "twinme-api"}],
    )
    assert any(
        "selects 2 Services (twinme-api, twinme-api-primary-lb)" in p
        for p in RULES["references"](objs)
    )
    objs = _mutated(
        primary, *API, [{"op": "replace", "path": "/spec/selector/matchLabels/app", "value": "api"}]
    )
    assert any("does not match the template's labels" in p for p in RULES["references"](objs))

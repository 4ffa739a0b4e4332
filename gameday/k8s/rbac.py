"""The failover controller's Kubernetes permissions: the API calls its failover-config makes
(`failover_controller_calls`, mirroring failover/backends) and the `failover-rbac` lint rule,
which holds its Role to exactly those calls on those names and its bindings to its own
ServiceAccount.
"""

from __future__ import annotations

from typing import Any

from bedrock.errors import ConfigError
from bedrock.loader import parse_yaml
from gameday.k8s.validate import describe as _name

Obj = dict[str, Any]

FAILOVER_ROLE = "failover-controller"
FAILOVER_SERVICE_ACCOUNT = "failover-controller"

FAILOVER_CONFIG_MAP = "failover-config"
FAILOVER_CONFIG_KEY = "config.yaml"

Call = tuple[str, str, str]  # (API group, resource, verb)


def failover_controller_calls(config: dict[str, Any]) -> dict[Call, frozenset[str] | None]:
    """The API calls the failover controller makes with this config, and on which names.

    Mirrors failover/backends: kube.py (IngressSwitch: read/patch_namespaced_ingress;
    DeploymentScaler: patch_namespaced_deployment_scale, read_namespaced_deployment_status)
    and lease_lock.py (read/replace/create_namespaced_lease). None: not limitable by
    name (create: the authorizer does not know the name before the object exists).
    """
    calls: dict[Call, set[str] | None] = {}

    def need(call: Call, name: str | None) -> None:
        if name is None:
            calls[call] = None
        else:
            names = calls.setdefault(call, set())
            if names is not None:
                names.add(str(name))

    for key in ("traffic", "load_balancer"):
        switch = config.get(key) or {}
        if switch.get("kind") == "k8s_ingress":
            need(("networking.k8s.io", "ingresses", "get"), switch.get("ingress"))
            need(("networking.k8s.io", "ingresses", "patch"), switch.get("ingress"))
    scaler = config.get("scaler") or {}
    if scaler.get("kind") == "kubernetes":
        for deployment in (scaler.get("deployments") or {}).values():
            need(("apps", "deployments/scale", "patch"), deployment)
            need(("apps", "deployments/status", "get"), deployment)
    lock = config.get("lock") or {}
    if lock.get("kind") == "kubernetes":
        name = lock.get("name", "gameday-failover")
        need(("coordination.k8s.io", "leases", "get"), name)
        need(("coordination.k8s.io", "leases", "update"), name)
        need(("coordination.k8s.io", "leases", "create"), None)
    return {c: (frozenset(n) if n is not None else None) for c, n in calls.items()}


def _failover_config(objects: list[Obj]) -> tuple[dict[str, Any] | None, str | None]:
    for obj in objects:
        if obj.get("kind") == "ConfigMap" and obj["metadata"]["name"] == FAILOVER_CONFIG_MAP:
            text = (obj.get("data") or {}).get(FAILOVER_CONFIG_KEY)
            if text is None:
                return None, f"ConfigMap {FAILOVER_CONFIG_MAP} has no {FAILOVER_CONFIG_KEY}"
            try:
                config = parse_yaml(str(text), FAILOVER_CONFIG_KEY).data
            except ConfigError as exc:
                return (
                    None,
                    f"ConfigMap {FAILOVER_CONFIG_MAP}: {FAILOVER_CONFIG_KEY} is not YAML: "
                    + "; ".join(exc.problems),
                )
            if not isinstance(config, dict):
                return (
                    None,
                    f"ConfigMap {FAILOVER_CONFIG_MAP}: {FAILOVER_CONFIG_KEY} is not a mapping",
                )
            return config, None
    return None, f"no ConfigMap named {FAILOVER_CONFIG_MAP}"


def rule_failover_rbac(objects: list[Obj]) -> list[str]:
    """The controller's Role grants exactly the calls its config makes, on those names."""
    roles = [
        o for o in objects if o.get("kind") == "Role" and o["metadata"]["name"] == FAILOVER_ROLE
    ]
    if not roles:
        return [f"failover-rbac: no Role named {FAILOVER_ROLE}"]
    config, error = _failover_config(objects)
    if config is None:
        return [f"failover-rbac: {error}"]
    needed = failover_controller_calls(config)
    problems = []
    for role in roles:
        granted: dict[Call, set[str] | None] = {}
        for i, rule in enumerate(role.get("rules") or []):
            problems += _rule_problems(f"{_name(role)}: rules[{i}]", rule, needed, granted)
        problems += _missing_grants(role, needed, granted)
    return problems + _binding_problems(objects)


def _rule_problems(
    where: str,
    rule: dict[str, Any],
    needed: dict[Call, frozenset[str] | None],
    granted: dict[Call, set[str] | None],
) -> list[str]:
    """One Role rule: what it grants beyond the needed calls and names (adds to `granted`)."""
    problems = []
    if rule.get("nonResourceURLs"):
        problems.append(f"failover-rbac: {where}: grants non-resource URLs")
    names = [str(n) for n in rule.get("resourceNames") or []]
    for group in rule.get("apiGroups") or []:
        for resource in rule.get("resources") or []:
            for verb in rule.get("verbs") or []:
                call = (group, resource, verb)
                what = f"{verb} on {resource} ({group or 'core'})"
                if call not in needed:
                    problems.append(
                        f"failover-rbac: {where}: grants {what}, which the controller "
                        "never calls with this failover-config"
                    )
                    continue
                allowed = needed[call]
                if allowed is not None and not names:
                    problems.append(
                        f"failover-rbac: {where}: {what} is not limited by resourceNames"
                    )
                extra = sorted(set(names) - allowed) if allowed is not None else []
                if extra:
                    problems.append(
                        f"failover-rbac: {where}: {what} on {extra}, which the "
                        "controller never touches"
                    )
                have = granted.setdefault(call, set())
                if have is not None:
                    if names:
                        have.update(names)
                    else:
                        granted[call] = None
    return problems


def _missing_grants(
    role: Obj, needed: dict[Call, frozenset[str] | None], granted: dict[Call, set[str] | None]
) -> list[str]:
    """The needed calls (and names) the Role does not grant."""
    problems = []
    for call, allowed in sorted(needed.items()):
        have = granted.get(call, set())
        missing = sorted(allowed - have) if allowed is not None and have is not None else []
        if call not in granted or missing:
            on = f" on {missing}" if missing else ""
            problems.append(
                f"failover-rbac: {_name(role)}: does not grant {call[2]} on {call[1]} "
                f"({call[0] or 'core'}){on}, which the controller calls"
            )
    return problems


def _binding_problems(objects: list[Obj]) -> list[str]:
    """Bindings and the Deployment: only the controller's ServiceAccount, only in its namespace."""
    problems = []
    for obj in objects:
        kind = obj.get("kind")
        if kind == "ClusterRoleBinding" and any(
            s.get("kind") == "ServiceAccount" and s.get("name") == FAILOVER_SERVICE_ACCOUNT
            for s in obj.get("subjects") or []
        ):
            problems.append(f"failover-rbac: {_name(obj)}: binds the controller cluster-wide")
        if kind == "RoleBinding" and obj.get("roleRef", {}).get("name") == FAILOVER_ROLE:
            others = [
                s.get("name")
                for s in obj.get("subjects") or []
                if s.get("name") != FAILOVER_SERVICE_ACCOUNT
            ]
            if others:
                problems.append(f"failover-rbac: {_name(obj)}: also binds {others}")
        if kind == "Deployment" and obj["metadata"]["name"] == "failover-controller":
            sa = obj["spec"]["template"]["spec"].get("serviceAccountName")
            if sa != FAILOVER_SERVICE_ACCOUNT:
                problems.append(f"failover-rbac: {_name(obj)}: runs as {sa!r}")
    return problems

"""The Kubernetes target: the same handles as the local target, on allowlisted clusters.

Handles: entry URL, Prometheus URL, regions, replicas per region, and the
faults the experiments call (FAULTS). Each region is a kube context (one
cluster per region, as manifests/k8s deploys it). Opening a target resolves
every region's context from the kubeconfig file and refuses (InputError, exit
2) any context not on the allowlist (allowlist.py) before a client exists, so
before any API call. `plan()` lists exactly which resources the faults would
hit, without calling anything: that is `--dry-run`.

The fault calls (scale, list/delete pods, read a Lease) go through the
kubernetes client; tests/test_k8s_target.py runs them against the project's
fake API server (tests/fakes/kube_apiserver.py) over real HTTP. Experiments
using chaostoolkit-kubernetes get the allowlisted context through
`chaos_secrets()`. Limits: no watch; a killed pod's replacement is the
cluster's job, observed through `replicas()`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from bedrock.errors import ActionError, InputError
from bedrock.models import STRICT, load_model
from bedrock.names import RegionName
from gameday.k8s.allowlist import (
    IN_CLUSTER,
    Allowlist,
    default_kubeconfig,
    load_allowlist,
    require_allowed,
    resolve_context,
)


class RegionSettings(BaseModel):
    """One region: its cluster (kube context) and the API Deployment in it."""

    model_config = STRICT
    context: str | None = Field(None, description="kube context; default: current-context")
    deployment: str = Field(description="the API Deployment, e.g. twinme-api-primary")
    api_selector: str | None = Field(
        None, description="label selector of the API pods; default app=twinme-api,region=<region>"
    )
    failover_lease: str = Field("twinme-failover", description="the controllers' Lease")
    controller_selector: str = Field("app=failover-controller")
    postgres_primary_selector: str = Field(
        "cnpg.io/cluster=twinme-postgres,cnpg.io/instanceRole=primary"
    )


class TargetSettings(BaseModel):
    """The `--target k8s` configuration file."""

    model_config = STRICT
    namespace: str = Field("twinme-prod", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    kubeconfig: Path | None = Field(None, description="default: $KUBECONFIG or ~/.kube/config")
    entry_url: str = Field(description="what clients use, e.g. https://api.twinme.ai")
    prometheus_url: str
    locust_url: str | None = Field(None, description="the in-cluster Locust master's web API")
    regions: dict[RegionName, RegionSettings] = Field(min_length=1, max_length=16)

    def api_selector(self, region: str) -> str:
        """The region's API pods. Both regions may share a namespace (the dev overlay),
        so the default selects on the `region` label too."""
        return self.regions[region].api_selector or f"app=twinme-api,region={region}"


def load_settings(path: Path) -> TargetSettings:
    """The target file, validated; ConfigError lists every problem with its key."""
    return load_model(path, TargetSettings, empty_ok=True)


@dataclass(frozen=True)
class Fault:
    """A fault the experiments can ask for: FAULTS[kind] on one region."""

    kind: str
    region: str
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Fault:
        """`kind:region[:count]`, e.g. `region-loss:primary`, `pod-kill:secondary:2`."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or parts[0] not in FAULTS:
            raise InputError(
                f"fault {text!r}: expected KIND:REGION[:COUNT], KIND one of {', '.join(FAULTS)}"
            )
        count = 1
        if len(parts) == 3:
            if not parts[2].isdigit() or int(parts[2]) < 1:
                raise InputError(f"fault {text!r}: COUNT must be a positive integer")
            count = int(parts[2])
        return cls(parts[0], parts[1], count)


FAULTS = {
    "region-loss": "scale the region's API Deployment to 0; rollback restores the count",
    "pod-kill": "delete COUNT API pods of the region (the Deployment recreates them)",
    "controller-kill": "delete the failover controller pod holding the Lease",
    "db-primary-kill": "delete the region's PostgreSQL primary pod (CloudNativePG fails over)",
}


@dataclass(frozen=True)
class PlannedCall:
    """One API call a fault would make, for `--dry-run`."""

    context: str
    verb: str
    resource: str
    namespace: str
    target: str
    effect: str

    def __str__(self) -> str:
        return f"[{self.context}] {self.verb} {self.resource} {self.namespace}/{self.target}: {self.effect}"


@dataclass(frozen=True)
class Injected:
    """A fault that was caused: what it hit, and what rollback needs."""

    fault: Fault
    hit: list[str]
    replicas_before: int | None = None


class KubernetesTarget:
    """Handles on the stack deployed by manifests/k8s, one allowlisted context per region."""

    name = "k8s"

    def __init__(
        self,
        settings: TargetSettings,
        *,
        env: Mapping[str, str] | None = None,
        allowlist: Allowlist | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.settings = settings
        self.kubeconfig = settings.kubeconfig or default_kubeconfig(env)
        self.contexts = {
            region: resolve_context(self.kubeconfig, r.context, env)
            for region, r in settings.regions.items()
        }
        # The safety check: nothing below may run for a context not listed.
        require_allowed(list(self.contexts.values()), allowlist or load_allowlist(env), env)
        self._clients: dict[str, Any] = {}

    @property
    def entry_url(self) -> str:
        return self.settings.entry_url

    @property
    def prometheus_url(self) -> str:
        return self.settings.prometheus_url

    @property
    def regions(self) -> list[str]:
        return list(self.settings.regions)

    def chaos_secrets(self, region: str) -> dict[str, str]:
        """Secrets for chaostoolkit-kubernetes activities aimed at `region`."""
        return {"KUBERNETES_CONTEXT": self.contexts[self._region(region)]}

    def plan(self, faults: list[Fault]) -> list[PlannedCall]:
        """Exactly which resources `faults` would read and change; no API call."""
        ns = self.settings.namespace
        calls: list[PlannedCall] = []
        for fault in faults:
            r = self.settings.regions[self._region(fault.region)]
            ctx = self.contexts[fault.region]
            if fault.kind == "region-loss":
                calls += [
                    PlannedCall(
                        ctx, "get", "deployments/scale", ns, r.deployment, "remember replicas"
                    ),
                    PlannedCall(
                        ctx,
                        "patch",
                        "deployments/scale",
                        ns,
                        r.deployment,
                        "replicas -> 0 (rollback: back to the remembered count)",
                    ),
                ]
            elif fault.kind == "pod-kill":
                selector = self.settings.api_selector(fault.region)
                calls += [
                    PlannedCall(ctx, "list", "pods", ns, f"-l {selector}", "pick pods"),
                    PlannedCall(
                        ctx,
                        "delete",
                        "pods",
                        ns,
                        f"-l {selector}",
                        f"{fault.count} pod(s), grace period 0",
                    ),
                ]
            elif fault.kind == "controller-kill":
                calls += [
                    PlannedCall(ctx, "get", "leases", ns, r.failover_lease, "find the leader"),
                    PlannedCall(
                        ctx,
                        "delete",
                        "pods",
                        ns,
                        f"-l {r.controller_selector}",
                        "the pod named by the Lease's holderIdentity",
                    ),
                ]
            elif fault.kind == "db-primary-kill":
                calls += [
                    PlannedCall(
                        ctx,
                        "list",
                        "pods",
                        ns,
                        f"-l {r.postgres_primary_selector}",
                        "find the primary",
                    ),
                    PlannedCall(
                        ctx,
                        "delete",
                        "pods",
                        ns,
                        f"-l {r.postgres_primary_selector}",
                        "1 pod, grace period 0",
                    ),
                ]
        return calls

    # -- calls (each goes through the region's allowlisted context) ----------

    def inject(self, fault: Fault) -> Injected:
        """Cause `fault`; the record says what was hit (the evidence) and how to undo it."""
        r = self.settings.regions[self._region(fault.region)]
        if fault.kind == "region-loss":
            before = self.scale(fault.region, 0)
            return Injected(fault, hit=[f"deployments/{r.deployment}"], replicas_before=before)
        if fault.kind == "pod-kill":
            selector = self.settings.api_selector(fault.region)
            pods = self.delete_pods(fault.region, selector, fault.count)
            return Injected(fault, hit=[f"pods/{p}" for p in pods])
        if fault.kind == "controller-kill":
            holder = self.lease_holder(fault.region)
            if not holder:
                raise ActionError(f"Lease {r.failover_lease} in {fault.region} has no holder")
            core = self._api(fault.region, "CoreV1Api")
            self._call(
                core.delete_namespaced_pod, holder, self.settings.namespace, grace_period_seconds=0
            )
            return Injected(fault, hit=[f"pods/{holder}"])
        pods = self.delete_pods(fault.region, r.postgres_primary_selector, 1)
        return Injected(fault, hit=[f"pods/{p}" for p in pods])

    def rollback(self, injected: Injected) -> None:
        """Undo what `inject` did where Kubernetes does not (killed pods come back by themselves)."""
        if injected.fault.kind == "region-loss" and injected.replicas_before is not None:
            self.scale(injected.fault.region, injected.replicas_before)

    def replicas(self, region: str) -> tuple[int, int]:
        """(desired, ready) replicas of the region's API Deployment."""
        apps = self._api(region, "AppsV1Api")
        r = self.settings.regions[region]
        dep = self._call(apps.read_namespaced_deployment, r.deployment, self.settings.namespace)
        return int(dep.spec.replicas or 0), int(dep.status.ready_replicas or 0)

    def scale(self, region: str, replicas: int) -> int:
        """Set the region's API replicas; returns the previous desired count."""
        apps = self._api(region, "AppsV1Api")
        name, ns = self.settings.regions[region].deployment, self.settings.namespace
        before = self._call(apps.read_namespaced_deployment_scale, name, ns)
        self._call(
            apps.patch_namespaced_deployment_scale, name, ns, {"spec": {"replicas": replicas}}
        )
        return int(before.spec.replicas or 0)

    def delete_pods(self, region: str, selector: str, count: int) -> list[str]:
        """Delete up to `count` running pods matching `selector`; their names."""
        core = self._api(region, "CoreV1Api")
        ns = self.settings.namespace
        pods = self._call(core.list_namespaced_pod, ns, label_selector=selector).items
        running = sorted(p.metadata.name for p in pods if p.status.phase == "Running")
        for name in running[:count]:
            self._call(core.delete_namespaced_pod, name, ns, grace_period_seconds=0)
        return running[:count]

    def lease_holder(self, region: str) -> str | None:
        """The failover controller Lease's holderIdentity in `region`."""
        coord = self._api(region, "CoordinationV1Api")
        r = self.settings.regions[region]
        lease = self._call(coord.read_namespaced_lease, r.failover_lease, self.settings.namespace)
        holder: str | None = lease.spec.holder_identity
        return holder

    def _region(self, region: str) -> str:
        if region not in self.settings.regions:
            raise InputError(f"unknown region {region!r} (target has {', '.join(self.regions)})")
        return region

    def _api(self, region: str, api_class: str) -> Any:
        from kubernetes import client, config  # local: keep `import gameday` light

        ctx = self.contexts[self._region(region)]
        if ctx not in self._clients:
            if ctx == IN_CLUSTER:
                cfg = client.Configuration()
                config.load_incluster_config(client_configuration=cfg)
                self._clients[ctx] = client.ApiClient(cfg)
            else:
                self._clients[ctx] = config.new_client_from_config(
                    config_file=str(self.kubeconfig), context=ctx
                )
        return getattr(client, api_class)(self._clients[ctx])

    @staticmethod
    def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, _request_timeout=10, **kwargs)
        except ApiException as exc:
            retryable = exc.status in (409, 429) or (exc.status or 0) >= 500
            raise ActionError(
                f"{fn.__name__}: HTTP {exc.status} {exc.reason}", retryable=retryable
            ) from exc
        except HTTPError as exc:
            raise ActionError(f"{fn.__name__}: {exc}", retryable=True) from exc

"""What each fault would do on Kubernetes, call by call, without calling anything (`--dry-run`)."""

from __future__ import annotations

from dataclasses import dataclass

from gameday.targets import faults as f
from gameday.targets.k8s_settings import TargetSettings

# The faults the Kubernetes target can cause, and what each does there.
K8S_FAULTS: dict[type[f.Fault], str] = {
    f.RegionLoss: "scale the region's API Deployment to 0; rollback restores the count",
    f.PodKill: "delete COUNT API pods of the region (the Deployment recreates them)",
    f.ControllerKill: "delete the failover controller pod holding the Lease",
    f.DbPrimaryKill: "delete the region's PostgreSQL primary pod (CloudNativePG fails over)",
    f.ScaleRegion: "scale the region's API Deployment to N; rollback restores the count",
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


def planned_calls(settings: TargetSettings, context: str, fault: f.Fault) -> list[PlannedCall]:
    """The calls `fault` makes through `context` (the region's allowlisted kube context)."""
    ns = settings.namespace
    r = settings.regions[fault.region]

    def call(verb: str, resource: str, target: str, effect: str) -> PlannedCall:
        return PlannedCall(context, verb, resource, ns, target, effect)

    if isinstance(fault, f.RegionLoss | f.ScaleRegion):
        n = 0 if isinstance(fault, f.RegionLoss) else fault.replicas
        return [
            call("get", "deployments/scale", r.deployment, "remember replicas"),
            call(
                "patch",
                "deployments/scale",
                r.deployment,
                f"replicas -> {n} (rollback: back to the remembered count)",
            ),
        ]
    if isinstance(fault, f.PodKill):
        selector = f"-l {settings.api_selector(fault.region)}"
        return [
            call("list", "pods", selector, "pick pods"),
            call("delete", "pods", selector, f"{fault.count} pod(s), grace period 0"),
        ]
    if isinstance(fault, f.ControllerKill):
        return [
            call("get", "leases", r.failover_lease, "find the leader"),
            call(
                "delete",
                "pods",
                f"-l {r.controller_selector}",
                "the pod named by the Lease's holderIdentity",
            ),
        ]
    if isinstance(fault, f.DbPrimaryKill):
        selector = f"-l {r.postgres_primary_selector}"
        return [
            call("list", "pods", selector, "find the primary"),
            call("delete", "pods", selector, "1 pod, grace period 0"),
        ]
    return []

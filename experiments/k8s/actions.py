"""Actions the Kubernetes experiments need beside chaostoolkit-kubernetes' own.

Both go through chaostoolkit-kubernetes' client factory (`create_k8s_api_client`), so
they use the same kube context as its activities, and the experiment's
`gameday.k8s.chaos_control` has checked that context against the allowlist first.
"""

from __future__ import annotations

import re
from typing import Any

from chaoslib.exceptions import ActivityFailed

from experiments.actions import hold_fault  # the same hold as the local experiments

__all__ = ["hold_fault", "terminate_lease_holder"]


def terminate_lease_holder(
    lease: str = "twinme-failover",
    ns: str = "default",
    grace_period: int = 0,
    secrets: dict[str, Any] | None = None,
) -> list[str]:
    """Delete the pod named by the Lease's holderIdentity (the leading controller).

    Raises ActivityFailed when the Lease has no holder. Returns the deleted pod's name,
    as chaosk8s' terminate_pods does.
    """
    from chaosk8s import create_k8s_api_client  # type: ignore[import-untyped]
    from chaosk8s.pod.actions import terminate_pods  # type: ignore[import-untyped]
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    api = create_k8s_api_client(secrets)
    try:
        found = client.CoordinationV1Api(api).read_namespaced_lease(lease, ns)
    except ApiException as exc:
        raise ActivityFailed(f"Lease {ns}/{lease}: HTTP {exc.status} {exc.reason}") from None
    holder = found.spec.holder_identity if found.spec else None
    if not holder:
        raise ActivityFailed(f"Lease {ns}/{lease} has no holder")
    deleted: list[str] = terminate_pods(
        name_pattern=f"^{re.escape(holder)}$", all=True, grace_period=grace_period, ns=ns,
        secrets=secrets,
    )  # fmt: skip
    if not deleted:
        raise ActivityFailed(f"Lease {ns}/{lease} names {holder!r}, which is not a pod")
    return deleted

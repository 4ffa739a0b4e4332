"""The Kubernetes target's safety net: what a run may leave on a cluster, and its journal.

An experiment's chaos process (chaostoolkit-kubernetes) changes the cluster itself, so the
runner cannot journal each fault as the local target does. What it can leave behind is
known: NetworkPolicies labelled `app.kubernetes.io/managed-by=gameday` (a region
partition) and API Deployments scaled below their count (a region loss). Killed pods need
no undoing (their controllers recreate them).

The journal (`<state_root>/safety-net.json`) holds every region's desired API replicas as
they were before the first run of this process; it stays until the runs end, so a runner
that dies leaves it behind and `gameday recover --target k8s` (or the next run) scales
the Deployments back to it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bedrock.errors import ActionError
from gameday.targets.base import Say

if TYPE_CHECKING:
    from gameday.targets.kubernetes import KubernetesTarget

MANAGED_BY = "app.kubernetes.io/managed-by=gameday"


def journal_path(target: KubernetesTarget) -> Path:
    return target.state_root / "safety-net.json"


def read_journal(target: KubernetesTarget) -> dict[str, int]:
    """region -> desired API replicas before the runs ({} when there is no journal)."""
    path = journal_path(target)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ActionError(f"{path}: unreadable safety-net journal ({exc}); remove it") from None
    desired = data.get("desired") if isinstance(data, dict) else None
    if not isinstance(desired, dict):
        raise ActionError(f"{path}: key 'desired' must be a mapping; remove the file")
    return {str(r): int(n) for r, n in desired.items() if r in target.settings.regions}


def write_journal(target: KubernetesTarget) -> dict[str, int]:
    """Journal the desired counts now, unless a journal (a dead runner's) is already there."""
    kept = read_journal(target)
    if kept:
        return kept
    desired = {r: target.desired_replicas(r) for r in target.regions}
    path = journal_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"desired": desired, "t_wall": time.time()}))
    tmp.replace(path)
    return desired


def clear_journal(target: KubernetesTarget) -> None:
    journal_path(target).unlink(missing_ok=True)


def undo_leftovers(target: KubernetesTarget, say: Say) -> dict[str, Any]:
    """Delete gameday's NetworkPolicies and scale Deployments back up to the journal."""
    ns = target.settings.namespace
    removed, scaled = [], {}
    desired = read_journal(target)
    for region in target.regions:
        net = target._api(region, "NetworkingV1Api")
        found = target._call(net.list_namespaced_network_policy, ns, label_selector=MANAGED_BY)
        for policy in found.items:
            target._call(net.delete_namespaced_network_policy, policy.metadata.name, ns)
            removed.append(f"{region}/{policy.metadata.name}")
            say(f"deleted NetworkPolicy {policy.metadata.name} in {region}")
        want = desired.get(region)
        if want is not None and target.desired_replicas(region) < want:
            target.scale(region, want)
            scaled[region] = want
            say(f"scaled {region}'s API back to {want} replicas")
    return {"network_policies_removed": removed, "scaled_back": scaled}


def wait_at_home(target: KubernetesTarget, deadline_s: float) -> list[str]:
    """Wait until `at_home` holds; [] then, else the last reason it did not."""
    end, last = time.monotonic() + deadline_s, "not checked"
    while True:
        try:
            home = target.at_home()
        except ActionError as exc:
            last = str(exc)
        else:
            if home.ok:
                return []
            last = home.detail
        if time.monotonic() >= end:
            return [f"not back at home after {deadline_s:.0f} s: {last}"]
        time.sleep(min(0.5, max(0.0, end - time.monotonic())))

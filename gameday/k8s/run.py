"""`gameday run --target k8s` and `gameday nightly --target k8s`: the local run, on a cluster.

The run itself is gameday/orchestrate.py's `Run`, unchanged: probes, the ledger and the
load go through the entry URL (load from this machine), Prometheus through
prometheus-api-client, the fault is a plain Chaos Toolkit experiment from experiments/k8s/
(chaostoolkit-kubernetes activities), the verdicts are the same code. What differs is the
handle on the target: `ClusterHandles` gives Run what it reads from a local `Stack`
(entry and Prometheus URLs, regions, replicas, the database primary) through the
Kubernetes API of the allowlisted contexts (gameday/k8s/target.py), and its safety net
(`restore_all`) undoes what the experiments may leave behind on a cluster: the
NetworkPolicies gameday created, and Deployments scaled below the count seen before the
run. Killed pods need no undoing (their controllers recreate them).

Not here: controller events (the cluster's failover controller keeps them in its pod's
log; no run collects them yet) and the in-cluster Locust master (load runs locally).

This module stands in for the Kubernetes implementation of the `Target` interface that
gameday/ is growing (issue 13); it duck-types `stack.control.Stack` for `Run`.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from bedrock.errors import ActionError, InputError, SetupError
from gameday.k8s.target import KubernetesTarget, TargetSettings, load_settings
from gameday.plan import EXPERIMENTS_DIR, RunPlan, make_plan
from gameday.targets.base import Handles

K8S_EXPERIMENTS = EXPERIMENTS_DIR / "k8s"
K8S_SUITE = K8S_EXPERIMENTS / "suites" / "nightly.yaml"
MANAGED_BY = "app.kubernetes.io/managed-by=gameday"
Say = Callable[[str], None]


def k8s_plan(experiment: str, scenario: str, profile: str) -> RunPlan:
    """The plan with the experiment's Kubernetes form (experiments/k8s/<name>.yaml)."""
    if experiment != "none" and not Path(experiment).is_file():
        path = K8S_EXPERIMENTS / f"{Path(experiment).stem}.yaml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in K8S_EXPERIMENTS.glob("*.yaml")))
            raise InputError(f"experiment {experiment!r} has no Kubernetes form (known: {known})")
        experiment = str(path)
    return make_plan(experiment, scenario, profile, "k8s")


def open_target(target_file: Path | None) -> KubernetesTarget:
    if target_file is None:
        raise InputError(
            "--target k8s needs --k8s-target FILE or $GAMEDAY_K8S_TARGET "
            "(see manifests/k8s/target.example.yaml)"
        )
    return KubernetesTarget(load_settings(target_file))  # refuses before any API call


class ClusterHandles:
    """What `Run` reads from a target, for a cluster (duck-types `stack.control.Stack`)."""

    def __init__(self, target: KubernetesTarget, home: str | None = None) -> None:
        self.target = target
        self.settings: TargetSettings = target.settings
        self.home = home or next(iter(self.settings.regions))
        ctx = target.contexts[self.home]
        self.root = Path(tempfile.gettempdir()) / "gameday" / "k8s" / ctx  # run lock only
        self.root.mkdir(parents=True, exist_ok=True)
        self.handles: dict[str, Any] = {"events_dir": str(self.root / "no-events")}
        self.programs: dict[str, Any] = {}  # no local processes (and no local autoscaler)
        # no local process logs either (the pods' logs stay on the cluster)
        self.layout = SimpleNamespace(logs=self.root / "no-logs")
        self.desired_before = {r: target.replicas(r)[0] for r in self.regions}

    # -- what Run, Monitor and collect read ---------------------------------------------
    @property
    def entry_url(self) -> str:
        return self.settings.entry_url.rstrip("/")

    @property
    def prometheus_url(self) -> str:
        return self.settings.prometheus_url.rstrip("/")

    @property
    def regions(self) -> list[str]:
        return list(self.settings.regions)

    def region_url(self, region: str) -> str:
        return self.entry_url  # a region's own URL is not part of the target file

    def replicas(self, region: str) -> int:
        return self.target.replicas(region)[0]

    def ready_replicas(self, region: str) -> int:
        return self.target.replicas(region)[1]

    def edge_active_regions(self) -> list[str]:
        raise ActionError("the entry point's routing is not read on Kubernetes")

    def db_leader(self) -> str | None:
        """The CloudNativePG primary pod's name (None while there is none)."""
        r = self.settings.regions[self.home]
        core = self.target._api(self.home, "CoreV1Api")
        pods = self.target._call(
            core.list_namespaced_pod,
            self.settings.namespace,
            label_selector=r.postgres_primary_selector,
        ).items
        running = [p for p in pods if p.status.phase == "Running"]
        return str(running[0].metadata.name) if running else None

    # -- the chaos process' settings --------------------------------------------------
    def chaos_env(self) -> dict[str, str]:
        """What experiments/k8s/*.yaml read (their configuration and chaosk8s' client)."""
        env = {
            "GAMEDAY_ENTRY_URL": self.entry_url,
            "GAMEDAY_PROMETHEUS_URL": self.prometheus_url,
            "GAMEDAY_K8S_NAMESPACE": self.settings.namespace,
            "GAMEDAY_K8S_REGION": self.home,
            "GAMEDAY_K8S_REGION_REPLICAS": str(max(1, self.desired_before[self.home])),
            **self.target.chaos_secrets(self.home),
        }
        if self.target.kubeconfig is not None:
            env["KUBECONFIG"] = str(self.target.kubeconfig)
        return env

    # -- before and after ------------------------------------------------------------
    def preflight(self, deadline_s: float = 90.0, say: Say = print) -> None:
        """Entry healthy and every region's API Deployment ready at its desired count."""
        end, last = time.monotonic() + deadline_s, ""
        while time.monotonic() < end:
            try:
                counts = {r: self.target.replicas(r) for r in self.regions}
                health = httpx.get(f"{self.entry_url}/health", timeout=2.0)
            except (ActionError, httpx.HTTPError) as exc:
                last = str(exc)
            else:
                ready = all(d > 0 and d == r for d, r in counts.values())
                if health.status_code == 200 and ready:
                    return
                last = f"entry /health {health.status_code}, replicas (desired, ready) {counts}"
            time.sleep(0.5)
        raise SetupError(f"the cluster is not healthy before the run: {last}")

    def restore_all(self, deadline_s: float = 120.0) -> dict[str, Any]:
        """The safety net: gameday's NetworkPolicies deleted, API Deployments scaled back."""
        ns = self.settings.namespace
        removed, scaled = [], {}
        for region in self.regions:
            net = self.target._api(region, "NetworkingV1Api")
            policies = self.target._call(
                net.list_namespaced_network_policy, ns, label_selector=MANAGED_BY
            ).items
            for policy in policies:
                self.target._call(net.delete_namespaced_network_policy, policy.metadata.name, ns)
                removed.append(f"{region}/{policy.metadata.name}")
            desired, _ = self.target.replicas(region)
            if desired < self.desired_before[region]:
                self.target.scale(region, self.desired_before[region])
                scaled[region] = self.desired_before[region]
        self.preflight(deadline_s, say=lambda _m: None)
        return {"network_policies_removed": removed, "scaled_back": scaled}


class ClusterRunTarget(KubernetesTarget):
    """The Kubernetes target as a run sees it: the cluster's own observations and faults
    (KubernetesTarget), no local state, logs or controller events, and a safety net that
    also undoes what the experiment's chaos process did (gameday's NetworkPolicies,
    API Deployments scaled down): `ClusterHandles.restore_all`."""

    def __init__(self, cluster: ClusterHandles) -> None:
        super().__init__(cluster.settings)
        self.cluster = cluster

    @property
    def handles(self) -> Handles:
        entry = self.cluster.entry_url
        return Handles(entry, self.cluster.prometheus_url, {r: "" for r in self.regions}, entry)

    def restore(self, say: Say, deadline_s: float = 120.0) -> dict[str, Any]:
        done = super().restore(say, deadline_s)
        return {**done, **self.cluster.restore_all(deadline_s)}


def apply_env(env: Mapping[str, str]) -> None:
    """The chaos subprocess inherits this process' environment (orchestrate.Run)."""
    os.environ.update(env)

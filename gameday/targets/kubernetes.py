"""The Kubernetes target: the same handles as the local target, on allowlisted clusters.

Each region is a kube context (one cluster per region, as manifests/k8s deploys
it; the first region of the target file is home). Opening a target resolves
every region's context from the kubeconfig file and refuses (InputError, exit 2)
any context not on the allowlist (gameday/k8s/allowlist.py) before a client
exists, so before any API call. `plan()` lists exactly which resources the
faults would hit, without calling anything: that is `--dry-run`.

The fault calls (scale, list/delete pods, read a Lease) go through the
kubernetes client; tests/unit/test_k8s_target_api.py runs them against the
project's fake API server (tests/support/fakes/kube_apiserver.py) over real
HTTP. Experiments using chaostoolkit-kubernetes get the allowlisted context
through `chaos_secrets()` / `chaos_env()`. Limits: no watch; a killed pod's
replacement is the cluster's job, observed through `replicas()`; where the edge
routes is not observable here (DNS / the global load balancer), so
`edge_regions` raises.

The safety net (gameday/targets/k8s_safety.py): `begin_runs` journals every
region's desired API replicas in a file under `state_root` before the first
run; `restore` (after each run) and `recover` (after a dead runner, `gameday
recover --target k8s`) delete the NetworkPolicies gameday's experiments created
and scale back any API Deployment left below its journaled count; `end_runs`
clears the journal. The controllers' events come from their endpoints
(`controller_urls`, gameday/targets/k8s_events.py) into `handles.events_dir`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from bedrock.errors import ActionError, InputError
from gameday.k8s.allowlist import (
    IN_CLUSTER,
    Allowlist,
    default_kubeconfig,
    load_allowlist,
    require_allowed,
    resolve_context,
)
from gameday.targets import faults as f
from gameday.targets import k8s_safety
from gameday.targets.base import (
    Handles,
    HandlesMixin,
    HomeCheck,
    Injected,
    Replicas,
    Say,
    Target,
    require_supported,
)
from gameday.targets.k8s_events import ControllerEvents
from gameday.targets.k8s_plan import K8S_FAULTS, PlannedCall, planned_calls
from gameday.targets.k8s_settings import TargetSettings


def parse_fault(text: str) -> f.Fault:
    """A `KIND:REGION[:COUNT]` fault this target can cause (InputError otherwise)."""
    return f.parse(text, kinds=[t.kind for t in K8S_FAULTS])


class KubernetesTarget(HandlesMixin):
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
        self._injected: list[Injected] = []  # not undone yet: what `restore` reverses
        # gameday's own state for this cluster (run lock, safety-net journal), never the checkout
        home_ctx = self.contexts[next(iter(settings.regions))]
        root = Path(env.get("TMPDIR") or tempfile.gettempdir()) / "gameday" / "k8s"
        self.state_root = root / home_ctx.replace("/", "_")
        folder = self.state_root / f"events-{os.getpid()}"
        self.events = ControllerEvents(settings.controller_urls, folder)

    # -- handles -------------------------------------------------------------
    @property
    def handles(self) -> Handles:
        s = self.settings
        regions = {r: "" for r in s.regions}  # a region's own URL is not in the target file
        events = self.events.folder if s.controller_urls else None
        return Handles(s.entry_url.rstrip("/"), s.prometheus_url.rstrip("/"), regions,
                       s.entry_url.rstrip("/"), events_dir=events)  # fmt: skip

    @property
    def scales_on_load(self) -> bool:
        return True  # manifests/k8s deploys an HPA per region

    def chaos_secrets(self, region: str) -> dict[str, str]:
        """Secrets for chaostoolkit-kubernetes activities aimed at `region`."""
        return {"KUBERNETES_CONTEXT": self.contexts[self._region(region)]}

    def chaos_env(self) -> dict[str, str]:
        """What experiments/k8s/*.yaml read (their configuration and chaosk8s' client), for
        the home region; the chaos process inherits it (gameday/k8s/run.py)."""
        home = self.regions[0]
        env = {
            "GAMEDAY_ENTRY_URL": self.entry_url,
            "GAMEDAY_PROMETHEUS_URL": self.prometheus_url,
            "GAMEDAY_K8S_NAMESPACE": self.settings.namespace,
            "GAMEDAY_K8S_REGION": home,
            "GAMEDAY_K8S_REGION_REPLICAS": str(max(1, self.desired_replicas(home))),
            **self.chaos_secrets(home),
        }
        if self.kubeconfig is not None:
            env["KUBECONFIG"] = str(self.kubeconfig)
        return env

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "namespace": self.settings.namespace, "contexts": self.contexts}

    @contextmanager
    def collecting_events(self) -> Iterator[None]:
        """The controllers' events mirrored into `handles.events_dir` while the block runs."""
        if not self.settings.controller_urls:
            yield
            return
        try:
            with self.events.running():
                yield
        finally:
            self.events.remove()

    # -- faults ----------------------------------------------------------------
    def supports(self, fault: f.Fault) -> bool:
        return type(fault) in K8S_FAULTS

    def planned_calls(self, faults: Sequence[f.Fault]) -> list[PlannedCall]:
        """Exactly which resources `faults` would read and change; no API call."""
        calls: list[PlannedCall] = []
        for fault in faults:
            require_supported(self, fault, list(K8S_FAULTS))
            calls += planned_calls(self.settings, self.contexts[self._region(fault.region)], fault)
        return calls

    def plan(self, faults: Sequence[f.Fault]) -> list[str]:
        return [str(call) for call in self.planned_calls(faults)]

    def inject(self, fault: f.Fault) -> Injected:
        """Cause `fault`; the record says what was hit (the evidence) and how to undo it."""
        require_supported(self, fault, list(K8S_FAULTS))
        r = self.settings.regions[self._region(fault.region)]
        if isinstance(fault, f.RegionLoss | f.ScaleRegion):
            n = 0 if isinstance(fault, f.RegionLoss) else fault.replicas
            before = self.scale(fault.region, n)
            done = Injected(fault, hit=[f"deployments/{r.deployment}"], replicas_before=before)
        elif isinstance(fault, f.PodKill):
            selector = self.settings.api_selector(fault.region)
            pods = self.delete_pods(fault.region, selector, fault.count)
            done = Injected(fault, hit=[f"pods/{p}" for p in pods])
        elif isinstance(fault, f.ControllerKill):
            done = Injected(fault, hit=[f"pods/{self._kill_lease_holder(fault.region)}"])
        else:
            pods = self.delete_pods(fault.region, r.postgres_primary_selector, 1)
            done = Injected(fault, hit=[f"pods/{p}" for p in pods])
        self._injected.append(done)
        return done

    def undo(self, injected: Injected) -> None:
        """Undo what `inject` did where Kubernetes does not (killed pods come back by themselves)."""
        if injected.replicas_before is not None:
            self.scale(injected.fault.region, injected.replicas_before)
        if injected in self._injected:
            self._injected.remove(injected)

    rollback = undo  # the name experiments used before the Target interface

    def restore(self, say: Say, deadline_s: float = 120.0) -> dict[str, Any]:
        """The safety net after a run: every fault this target injected and did not undo
        (newest first), then whatever the experiment's chaos process left (gameday's
        NetworkPolicies, API Deployments below the journaled count), then ready again."""
        undone = []
        for injected in reversed(list(self._injected)):
            self.undo(injected)
            undone.append(f.describe(injected.fault))
            say(f"undid {f.describe(injected.fault)}")
        done = k8s_safety.undo_leftovers(self, say)
        problems = k8s_safety.wait_at_home(self, deadline_s)
        if self.settings.controller_urls:
            self.events.poll()  # the run collects the controllers' events next
        if problems:
            raise ActionError("; ".join(problems))
        return {"undone": undone, **done}

    def recover(self, say: Say, deadline_s: float = 30.0) -> list[str]:
        """After a dead runner: undo what the journal holds (Deployments scaled below their
        journaled count) and gameday's NetworkPolicies; the problems left."""
        k8s_safety.undo_leftovers(self, say)
        problems = k8s_safety.wait_at_home(self, deadline_s)
        if not problems:
            k8s_safety.clear_journal(self)
        return problems

    def begin_runs(self) -> None:
        """Journal every region's desired API replicas (kept when a dead runner's is there)."""
        k8s_safety.write_journal(self)

    def end_runs(self) -> None:
        k8s_safety.clear_journal(self)

    # -- observations ----------------------------------------------------------
    def replicas(self, region: str) -> Replicas:
        """(desired, ready) replicas of the region's API Deployment."""
        apps = self._api(region, "AppsV1Api")
        r = self.settings.regions[region]
        dep = self._call(apps.read_namespaced_deployment, r.deployment, self.settings.namespace)
        return Replicas(int(dep.spec.replicas or 0), int(dep.status.ready_replicas or 0))

    def desired_replicas(self, region: str) -> int:
        return self.replicas(region).desired

    def edge_regions(self) -> list[str]:
        raise ActionError("where the edge routes is not observable on the Kubernetes target")

    def db_leader(self) -> str | None:
        """The running PostgreSQL primary pod of the home region (CloudNativePG's label)."""
        home = self.regions[0]
        core = self._api(home, "CoreV1Api")
        selector = self.settings.regions[home].postgres_primary_selector
        pods = self._call(
            core.list_namespaced_pod, self.settings.namespace, label_selector=selector
        )
        running = sorted(p.metadata.name for p in pods.items if p.status.phase == "Running")
        return running[0] if running else None

    def at_home(self) -> HomeCheck:
        """The entry point answers /health and every region's API is ready at its count."""
        counts = {r: tuple(self.replicas(r)) for r in self.regions}
        ready = all(d > 0 and d == r for d, r in counts.values())
        try:
            health = httpx.get(f"{self.entry_url}/health", timeout=2.0).status_code
        except httpx.HTTPError as exc:
            return HomeCheck(False, f"entry /health: {exc}")
        ok = health == 200 and ready
        return HomeCheck(ok, f"entry /health {health}, replicas (desired, ready) {counts}")

    # -- calls (each goes through the region's allowlisted context) ------------
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

    def _kill_lease_holder(self, region: str) -> str:
        holder = self.lease_holder(region)
        if not holder:
            lease = self.settings.regions[region].failover_lease
            raise ActionError(f"Lease {lease} in {region} has no holder")
        core = self._api(region, "CoreV1Api")
        self._call(
            core.delete_namespaced_pod, holder, self.settings.namespace, grace_period_seconds=0
        )
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


if TYPE_CHECKING:  # mypy proves the class has every member of the Target interface

    def _is_a_target(target: KubernetesTarget) -> Target:
        return target

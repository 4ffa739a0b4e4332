"""TEST INFRASTRUCTURE: a Kubernetes API server whose Pods and Deployments are the local stack.

No cluster can run on our machines, so `--target k8s` is tested against this stand-in. It
speaks the real Kubernetes REST API (JSON, the same paths, Status errors, label and field
selectors) to the unchanged `kubernetes` client and chaostoolkit-kubernetes, and every
object in the stack's namespace is a view of the real local stack (stack.control.Stack):

- **Pods** are the stack's running processes, one per supervised program, named
  `<program>-<pid>` (a restarted process is a new pod), labelled as manifests/k8s labels
  them: `app=twinme-api,region=R` (API replicas), `app=failover-controller`,
  `cnpg.io/cluster=twinme-postgres,cnpg.io/instanceRole=primary|replica` (the Patroni
  leader is the primary), `app=twinme-redis-leader|follower` (Redis Cluster masters and
  replicas), and `app=<role>,region=R` for the rest. Deleting a pod SIGKILLs the process
  tree; supervisord brings it back as a ReplicaSet would (programs without autorestart
  are started again by the stand-in, as an operator recreates its pod).
- **Deployments** `twinme-api-<region>` are the regions' API replicas: `spec.replicas`
  is the stack's desired count, `status.readyReplicas` the replicas answering /health;
  scaling one (patch, or the `scale` subresource) scales the region. `failover-controller`
  shows the two controllers (not scalable here).
- **The Lease** `twinme-failover` is read-only: its holderIdentity is the pod of the
  controller that holds the controllers' lock (the one whose /status says leader).
- **NetworkPolicies** are stored by the fake API server (kube_apiserver.py, whose request
  handling this class extends); one selecting `region: R` with no ingress rule partitions
  the region: its processes are frozen (SIGSTOP: nothing answers, as when packets are
  dropped; the machine-wide nftables table is not touched). Deleting it thaws them.

Other namespaces and resources behave as tests/support/fakes/kube_apiserver.py's fake.
Limits: no watch, no create/replace of Pods or Deployments, field selectors on
`metadata.name`, `metadata.namespace` and `status.phase` only.

Run on its own for a manual `--target k8s` run:
    python -m tests.support.fakes.kube_stack --state-dir DIR --kubeconfig OUT.yaml
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
import zlib
from typing import Any

import httpx
import psutil
import yaml

from stack import faults
from stack.control import Stack
from tests.support.fakes._http import Request, Response
from tests.support.fakes.kube_apiserver import _PATH, FakeKubeApiServer, status_error
from tests.support.fakes.kube_patch import label_selector_matches

NAMESPACE = "twinme-prod"
LEASE = "twinme-failover"
CONTEXT = "gameday-stand-in"
_STACK_PLURALS = {"pods", "deployments", "leases"}


def _ts(t_wall: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_wall))


def _meta(
    ns: str, name: str, labels: dict[str, str], created: float | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": ns,
        "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ns}/{name}")),
        "generation": 1,
        "creationTimestamp": _ts(created),
        "labels": labels,
    }


def _versioned(obj: dict[str, Any]) -> dict[str, Any]:
    """resourceVersion from the content: unchanged objects keep theirs."""
    obj["metadata"]["resourceVersion"] = str(zlib.crc32(json.dumps(obj, sort_keys=True).encode()))
    return obj


def field_selector_matches(selector: str | None, obj: dict[str, Any]) -> bool:
    for term in filter(None, (t.strip() for t in (selector or "").split(","))):
        key, _, want = term.partition("=")
        negate = key.endswith("!")
        key = key.rstrip("!=")
        want = want.lstrip("=")
        value: Any = obj
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if (str(value) == want) == negate:
            return False
    return True


class KubeStackStandIn(FakeKubeApiServer):
    """See the module docstring. `with KubeStackStandIn(Stack.open(dir)) as kube: kube.url`."""

    def __init__(self, stack: Stack, namespace: str = NAMESPACE, host: str = "127.0.0.1",
                 port: int = 0) -> None:  # fmt: skip
        super().__init__(host, port)
        self.stack = stack
        self.namespace = namespace
        self.partitioned: dict[str, str] = {}  # policy name -> region
        self._respawners: list[threading.Thread] = []

    # ---- the stack as objects ------------------------------------------------------
    def _labels(self, name: str, meta: dict[str, Any], leader: str | None,
                masters: set[str]) -> dict[str, str]:  # fmt: skip
        role, region = meta["role"], meta["region"]
        if role == "api":
            return {"app": "twinme-api", "region": region}
        if role == "failover":
            return {"app": "failover-controller"}
        if role == "postgres":
            instance = "primary" if name == leader else "replica"
            return {"cnpg.io/cluster": "twinme-postgres", "cnpg.io/instanceRole": instance,
                    "role": instance, "region": region}  # fmt: skip
        if role == "redis":
            addrs = self.stack.handles["redis_cluster"].get(region, [])
            if len(addrs) > 1:
                addr = addrs[meta["index"]]
                app = "twinme-redis-leader" if addr in masters else "twinme-redis-follower"
                return {"app": app, "region": region}
            return {"app": "twinme-redis", "region": region}
        return {"app": role, "region": region}

    def _cluster_roles(self) -> tuple[str | None, set[str]]:
        try:
            leader = self.stack.db_leader()
        except Exception:  # noqa: BLE001 - Patroni unreachable: no primary right now
            leader = None
        try:
            masters = set(self.stack.redis_masters())
        except Exception:  # noqa: BLE001 - no Redis node answers: no leader label
            masters = set()
        return leader, masters

    def pods(self) -> list[dict[str, Any]]:
        """One Pod per running program of the stack."""
        states = self.stack.sup.states()
        leader, masters = self._cluster_roles()
        out = []
        for name, meta in self.stack.programs.items():
            st = states.get(name)
            if st is None or not st.pid or st.state not in ("RUNNING", "STARTING", "BACKOFF"):
                continue
            try:
                created = psutil.Process(st.pid).create_time()
            except psutil.Error:
                continue
            phase = "Running" if st.state == "RUNNING" else "Pending"
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    **_meta(
                        self.namespace,
                        f"{name}-{st.pid}",
                        self._labels(name, meta, leader, masters),
                        created,
                    ),
                    "annotations": {"gameday.stand-in/program": name},
                },  # fmt: skip
                "spec": {"containers": [{"name": meta["role"], "image": f"stand-in/{name}"}]},
                "status": {
                    "phase": phase,
                    "conditions": [{"type": "Ready", "status": str(phase == "Running")}],
                },
            }
            out.append(_versioned(pod))
        return out

    def _api_deployment(self, region: str, pods: list[dict[str, Any]]) -> dict[str, Any]:
        labels = {"app": "twinme-api", "region": region}
        mine = [p for p in pods if label_selector_matches(f"app=twinme-api,region={region}",
                                                          p["metadata"]["labels"])]  # fmt: skip
        ready = sum(self._api_ready(p) for p in mine)
        return self._deployment(f"twinme-api-{region}", labels, self.stack.replicas(region),
                                len(mine), ready)  # fmt: skip

    def _api_ready(self, pod: dict[str, Any]) -> bool:
        program = pod["metadata"]["annotations"]["gameday.stand-in/program"]
        meta = self.stack.programs[program]
        if pod["status"]["phase"] != "Running":
            return False
        try:
            url = self.stack.api_url(meta["region"], meta["index"])
            return httpx.get(f"{url}/health", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    def _deployment(self, name: str, labels: dict[str, str], desired: int, running: int,
                    ready: int) -> dict[str, Any]:  # fmt: skip
        status = {"observedGeneration": 1, "replicas": running, "updatedReplicas": running,
                  "readyReplicas": ready, "availableReplicas": ready}  # fmt: skip
        return _versioned(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": _meta(self.namespace, name, dict(labels)),
                "spec": {
                    "replicas": desired,
                    "selector": {"matchLabels": dict(labels)},
                    "template": {
                        "metadata": {"labels": dict(labels)},
                        "spec": {"containers": [{"name": "main", "image": "stand-in"}]},
                    },
                },  # fmt: skip
                "status": {k: v for k, v in status.items() if v},  # omitempty, as the real server
            }
        )

    def deployments(self) -> list[dict[str, Any]]:
        pods = self.pods()
        out = [self._api_deployment(r, pods) for r in self.stack.handles["regions"]]
        ctl = [p for p in pods if p["metadata"]["labels"].get("app") == "failover-controller"]
        ready = sum(p["status"]["phase"] == "Running" for p in ctl)
        n = len(self.stack.handles.get("failover_urls", []))
        out.append(self._deployment("failover-controller", {"app": "failover-controller"}, n,
                                    len(ctl), ready))  # fmt: skip
        return out

    def lease(self) -> dict[str, Any]:
        holder = None
        for url, pod in zip(self.stack.handles.get("failover_urls", []),
                            self._controller_pods(), strict=False):  # fmt: skip
            try:
                status = httpx.get(f"{url}/status", timeout=0.5).json()
            except (httpx.HTTPError, ValueError):
                continue
            if isinstance(status, dict) and status.get("leader") is True:
                holder = pod
        spec: dict[str, Any] = {"leaseDurationSeconds": 10}
        if holder:
            spec.update(holderIdentity=holder, renewTime=time.strftime(
                "%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()))  # fmt: skip
        return _versioned({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                           "metadata": _meta(self.namespace, LEASE, {}), "spec": spec})  # fmt: skip

    def _controller_pods(self) -> list[str | None]:
        """Pod names of the controllers in failover_urls order (None when one is down)."""
        by_program = {p["metadata"]["annotations"]["gameday.stand-in/program"]: p["metadata"]["name"]
                      for p in self.pods()}  # fmt: skip
        names = sorted(n for n, m in self.stack.programs.items() if m["role"] == "failover")
        return [by_program.get(n) for n in names]

    # ---- HTTP ----------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        m = _PATH.match(request.path)
        if m and m.group("ns") == self.namespace and m.group("plural") == "networkpolicies":
            resp = super().handle(request)  # stored as the fake API server stores objects
            self._policy_changed(request, m.group("name"), resp)
            return resp
        if not m or m.group("ns") != self.namespace or m.group("plural") not in _STACK_PLURALS:
            return super().handle(request)
        plural, name, sub = m.group("plural", "name", "sub")
        with self.lock:
            objects = {"pods": self.pods, "deployments": self.deployments,
                       "leases": lambda: [self.lease()]}[plural]()  # fmt: skip
            if name is None:
                return self._list_live(plural, objects, request)
            found = next((o for o in objects if o["metadata"]["name"] == name), None)
            if found is None:
                return status_error(404, "NotFound", f'{plural} "{name}" not found',
                                    name=name, kind=plural)  # fmt: skip
            if request.method == "GET" and sub is None:
                return Response.json(200, found)
            if plural == "pods" and request.method == "DELETE" and sub is None:
                return self._delete_pod(found)
            if plural == "deployments" and name.startswith("twinme-api-"):
                return self._scale_api(found, request, sub)
        return status_error(405, "MethodNotAllowed", "the stand-in does not allow this method")

    def _list_live(self, plural: str, objects: list[dict[str, Any]], request: Request) -> Response:
        labels, fields = request.q("labelSelector"), request.q("fieldSelector")
        items = [o for o in objects
                 if (not labels or label_selector_matches(labels, o["metadata"]["labels"]))
                 and field_selector_matches(fields, o)]  # fmt: skip
        kind = {"pods": "PodList", "deployments": "DeploymentList", "leases": "LeaseList"}[plural]
        version = {"pods": "v1", "deployments": "apps/v1", "leases": "coordination.k8s.io/v1"}
        return Response.json(200, {"apiVersion": version[plural], "kind": kind,
                                   "metadata": {"resourceVersion": self._next_rv()},
                                   "items": items})  # fmt: skip

    def _delete_pod(self, pod: dict[str, Any]) -> Response:
        program = pod["metadata"]["annotations"]["gameday.stand-in/program"]
        old_pid = int(pod["metadata"]["name"].rsplit("-", 1)[1])
        self.stack.kill(program)
        thread = threading.Thread(target=self._respawn, args=(program, old_pid), daemon=True)
        thread.start()
        self._respawners.append(thread)
        gone = copy.deepcopy(pod)
        gone["metadata"]["deletionTimestamp"] = _ts()
        return Response.json(200, gone)

    def _respawn(self, program: str, old_pid: int, deadline_s: float = 30.0) -> None:
        """As a ReplicaSet (or an operator): the program runs again, under a new pid."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            st = self.stack.sup.states().get(program)
            if st is not None and st.state == "RUNNING" and st.pid and st.pid != old_pid:
                break
            if st is not None and st.state in ("EXITED", "FATAL", "STOPPED"):
                self.stack.sup.start_program(program)
            time.sleep(0.2)
        self.stack.journal.clear(faults.program_killed(program))

    def _scale_api(self, dep: dict[str, Any], request: Request, sub: str | None) -> Response:
        region = dep["metadata"]["name"].removeprefix("twinme-api-")
        view = self._scale_view(dep) if sub == "scale" else dep
        if request.method == "GET" and sub == "scale":
            return Response.json(200, view)
        new = self._written(view, request)  # the fake API server's request handling
        if isinstance(new, Response):
            return new
        replicas = self._replicas_of(new)
        if isinstance(replicas, Response):
            return replicas
        try:
            self.stack.scale(region, replicas)
        except Exception as exc:  # noqa: BLE001 - the stack refused (beyond its max replicas)
            return status_error(422, "Invalid", f"spec.replicas: Invalid value: {exc}")
        fresh = self._api_deployment(region, self.pods())
        return Response.json(200, self._scale_view(fresh) if sub == "scale" else fresh)

    # ---- NetworkPolicies: a region partition ----------------------------------------
    def _policy_changed(self, request: Request, name: str | None, resp: Response) -> None:
        """The fake API server stored or deleted the policy; partition or heal the region."""
        if request.method == "POST" and resp.status == 201:
            body = json.loads(resp.body)
            region = self._partitioned_region(body)
            if region:
                self.partitioned[body["metadata"]["name"]] = region
                self.stack.freeze_region(region)
        elif request.method == "DELETE" and resp.status == 200 and name:
            region = self.partitioned.pop(name, None)
            if region and region not in self.partitioned.values():
                self.heal(region)

    def _partitioned_region(self, policy: dict[str, Any]) -> str | None:
        spec = policy.get("spec") or {}
        region = ((spec.get("podSelector") or {}).get("matchLabels") or {}).get("region")
        deny_in = "Ingress" in (spec.get("policyTypes") or ["Ingress"]) and not spec.get("ingress")
        if region in {m["region"] for m in self.stack.programs.values()} and deny_in:
            return str(region)
        return None

    def heal(self, region: str) -> None:
        """Thaw a partitioned region's processes (the policy is gone)."""
        for program, meta in self.stack.programs.items():
            if meta["region"] == region:
                self.stack.thaw(program)
        self.stack.journal.clear(faults.region_down(region))

    def stop(self) -> None:
        super().stop()
        for region in set(self.partitioned.values()):
            self.heal(region)
        self.partitioned.clear()
        for thread in self._respawners:
            thread.join(timeout=30)


def kubeconfig(url: str, context: str = CONTEXT, namespace: str = NAMESPACE) -> str:
    """A kubeconfig (YAML text) with one context pointing at the stand-in."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {"token": "stand-in"}}],
        "contexts": [{"name": context,
                      "context": {"cluster": context, "user": context, "namespace": namespace}}],
    })  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Serve the stand-in in the foreground for a manual `--target k8s` run (Ctrl-C stops)."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--kubeconfig", required=True, type=Path, help="written here")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with KubeStackStandIn(Stack.open(args.state_dir), port=args.port) as kube:
        args.kubeconfig.write_text(kubeconfig(kube.url))
        print(f"stand-in at {kube.url}; kubeconfig {args.kubeconfig} (context {CONTEXT})")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

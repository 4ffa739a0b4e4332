"""A faithful fake of the small subset of the Kubernetes API server that gameday uses.

The real `kubernetes` Python client talks to it unchanged: point a
`kubernetes.client.Configuration` at `fake.url` (see `client_configuration()`).
Served resources and verbs (all namespaced, JSON only):

- `apps/v1` deployments: get, list, create, patch, replace; the `scale`
  subresource (get, patch, replace, as `autoscaling/v1` Scale) and `status`
  (get). A built-in "controller" keeps one pod per desired replica (pods are
  recreated when deleted, as a ReplicaSet does) and reports
  `status.readyReplicas` once a pod has existed for `ready_delay_s`.
- `networking.k8s.io/v1` ingresses: get, list, create, patch, replace.
- `coordination.k8s.io/v1` leases: get, list, create (409 AlreadyExists),
  replace with `metadata.resourceVersion` compare-and-swap (409 Conflict).
- `networking.k8s.io/v1` networkpolicies: get, list, create, patch, replace, delete.
- `v1` pods: get, list by `labelSelector` (=, ==, !=, in, notin, exists,
  !exists), delete.

Errors are `Status` objects with the real reasons (NotFound, AlreadyExists,
Conflict, MethodNotAllowed, Unauthorized, BadRequest). Patches: JSON patch
(RFC 6902), JSON merge patch (RFC 7386); strategic merge patch is applied as a
merge patch (lists replaced, not merged by key: enough for the fields we patch).
A patch carrying `metadata.resourceVersion` is a precondition, as on a real
server. Limits: no watch, no field selectors, no admission, no RBAC; an optional
bearer `token` is checked for presence and equality only.
"""

from __future__ import annotations

import copy
import itertools
import re
import time
import uuid
from typing import Any

from tests.support.fakes._http import FakeHTTPServer, Request, Response
from tests.support.fakes.kube_patch import json_patch, label_selector_matches, merge_patch

# (url group prefix, plural) -> (apiVersion, kind, group for Status details)
RESOURCES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("/api/v1", "pods"): ("v1", "Pod", ""),
    ("/apis/apps/v1", "deployments"): ("apps/v1", "Deployment", "apps"),
    ("/apis/networking.k8s.io/v1", "ingresses"): (
        "networking.k8s.io/v1",
        "Ingress",
        "networking.k8s.io",
    ),
    ("/apis/coordination.k8s.io/v1", "leases"): (
        "coordination.k8s.io/v1",
        "Lease",
        "coordination.k8s.io",
    ),
    ("/apis/networking.k8s.io/v1", "networkpolicies"): (
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networking.k8s.io",
    ),
}
DELETABLE = {"pods", "networkpolicies"}
_PATH = re.compile(
    r"^(?P<prefix>/api/v1|/apis/[^/]+/[^/]+)/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)"
    r"(?:/(?P<name>[^/]+)(?:/(?P<sub>scale|status))?)?$"
)


def _ts() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status_error(code: int, reason: str, message: str, **details: Any) -> Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }
    return Response.json(code, body)


class FakeKubeApiServer(FakeHTTPServer):
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        ready_delay_s: float = 0.0,
        token: str | None = None,
    ) -> None:
        super().__init__(host, port)
        self.ready_delay_s = ready_delay_s
        self.token = token
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (plural, ns, name) -> obj
        self._rv = itertools.count(1000)
        self._pod_born: dict[tuple[str, str], float] = {}  # (ns, pod) -> monotonic creation
        self.hold_unready: set[tuple[str, str]] = set()  # (ns, deployment): new pods never ready

    # ---- client helpers -------------------------------------------------
    def client_configuration(self) -> Any:
        from kubernetes import client

        cfg = client.Configuration()
        cfg.host = self.url
        if self.token:
            cfg.api_key = {"authorization": self.token}
            cfg.api_key_prefix = {"authorization": "Bearer"}
        return cfg

    def api_client(self) -> Any:
        from kubernetes import client

        return client.ApiClient(self.client_configuration())

    # ---- seeding --------------------------------------------------------
    def _next_rv(self) -> str:
        return str(next(self._rv))

    def _meta(self, ns: str, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
        return {
            "name": name,
            "namespace": ns,
            "uid": str(uuid.uuid4()),
            "resourceVersion": self._next_rv(),
            "generation": 1,
            "creationTimestamp": _ts(),
            "labels": dict(labels or {}),
        }

    def add_deployment(
        self, ns: str, name: str, replicas: int, labels: dict[str, str] | None = None
    ) -> None:
        labels = labels or {"app": name}
        obj = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self._meta(ns, name, labels),
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": dict(labels)},
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {"containers": [{"name": "api", "image": "twinme/api:latest"}]},
                },
            },
            "status": {"observedGeneration": 1},
        }
        with self.lock:
            self.objects[("deployments", ns, name)] = obj
            self._reconcile()

    def add_object(self, plural: str, ns: str, obj: dict[str, Any]) -> None:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta.update(
            {
                k: v
                for k, v in self._meta(ns, meta["name"], meta.get("labels")).items()
                if k not in meta
            }
        )
        with self.lock:
            self.objects[(plural, ns, meta["name"])] = obj

    def get_object(self, plural: str, ns: str, name: str) -> dict[str, Any]:
        with self.lock:
            self._reconcile()
            return copy.deepcopy(self.objects[(plural, ns, name)])

    # ---- the deployment controller --------------------------------------
    def _pods_of(self, ns: str, dep: dict[str, Any]) -> list[dict[str, Any]]:
        name = dep["metadata"]["name"]
        return [
            o
            for (plural, pns, _), o in self.objects.items()
            if plural == "pods"
            and pns == ns
            and any(r.get("name") == name for r in o["metadata"].get("ownerReferences", []))
        ]

    def _reconcile(self) -> None:
        now = time.monotonic()
        for (plural, ns, name), dep in list(self.objects.items()):
            if plural != "deployments":
                continue
            desired = int(dep["spec"].get("replicas", 1))
            pods = sorted(self._pods_of(ns, dep), key=lambda p: p["metadata"]["name"])
            while len(pods) > desired:
                victim = pods.pop()
                del self.objects[("pods", ns, victim["metadata"]["name"])]
            while len(pods) < desired:
                pods.append(self._new_pod(ns, dep, now))
            ready = 0
            for pod in pods:
                key = (ns, pod["metadata"]["name"])
                is_ready = (
                    now - self._pod_born.get(key, now) >= self.ready_delay_s
                    and (ns, name) not in self.hold_unready
                )
                want = "True" if is_ready else "False"
                conds = pod["status"]["conditions"]
                if conds[0]["status"] != want:
                    conds[0]["status"] = want
                    pod["metadata"]["resourceVersion"] = self._next_rv()
                ready += is_ready
            status = {
                "observedGeneration": dep["metadata"]["generation"],
                "replicas": len(pods),
                "updatedReplicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
            }
            status = {k: v for k, v in status.items() if v}  # omitempty, as the real server
            if status != dep.get("status"):
                dep["status"] = status
                dep["metadata"]["resourceVersion"] = self._next_rv()

    def _new_pod(self, ns: str, dep: dict[str, Any], now: float) -> dict[str, Any]:
        dname = dep["metadata"]["name"]
        pname = f"{dname}-6d4cf56db6-{uuid.uuid4().hex[:5]}"
        labels = dict(dep["spec"]["template"]["metadata"].get("labels", {}))
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                **self._meta(ns, pname, labels),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": dname,
                        "uid": dep["metadata"]["uid"],
                    }
                ],
            },
            "spec": copy.deepcopy(dep["spec"]["template"]["spec"]),
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]},
        }
        self.objects[("pods", ns, pname)] = pod
        self._pod_born[(ns, pname)] = now
        return pod

    # ---- HTTP -------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if (
            self.token is not None
            and request.headers.get("authorization") != f"Bearer {self.token}"
        ):
            return status_error(401, "Unauthorized", "Unauthorized")
        m = _PATH.match(request.path)
        if not m or (m.group("prefix"), m.group("plural")) not in RESOURCES:
            return status_error(404, "NotFound", "the server could not find the requested resource")
        prefix, ns, plural, name, sub = m.group("prefix", "ns", "plural", "name", "sub")
        api_version, kind, group = RESOURCES[(prefix, plural)]
        with self.lock:
            self._reconcile()
            if name is None:
                if request.method == "GET":
                    return self._list(plural, ns, api_version, kind, request)
                if request.method == "POST" and plural != "pods":
                    return self._create(plural, ns, api_version, kind, group, request)
                return status_error(
                    405, "MethodNotAllowed", "the server does not allow this method"
                )
            key = (plural, ns, name)
            obj = self.objects.get(key)
            if obj is None:
                return status_error(
                    404, "NotFound", f'{plural}.{group or "core"} "{name}" not found',
                    name=name, group=group, kind=plural,
                )  # fmt: skip
            if sub == "scale":
                if plural != "deployments":
                    return status_error(
                        404, "NotFound", "the server could not find the requested resource"
                    )
                return self._scale(key, obj, request)
            if sub == "status":
                if request.method == "GET":
                    return Response.json(200, obj)
                return status_error(
                    405, "MethodNotAllowed", "the server does not allow this method"
                )
            if request.method == "GET":
                return Response.json(200, obj)
            if request.method == "DELETE":
                if plural not in DELETABLE:
                    return status_error(
                        405, "MethodNotAllowed", "the server does not allow this method"
                    )
                del self.objects[key]
                self._reconcile()  # the ReplicaSet replaces it, as on a real cluster
                return Response.json(200, obj)
            if plural == "pods":
                return status_error(
                    405, "MethodNotAllowed", "the server does not allow this method"
                )
            if request.method == "PUT":
                return self._replace(key, obj, group, request)
            if request.method == "PATCH":
                return self._patch(key, obj, group, request)
        return status_error(405, "MethodNotAllowed", "the server does not allow this method")

    def _list(
        self, plural: str, ns: str, api_version: str, kind: str, request: Request
    ) -> Response:
        selector = request.q("labelSelector")
        items = [
            o
            for (p, n, _), o in sorted(self.objects.items())
            if p == plural
            and n == ns
            and (
                not selector or label_selector_matches(selector, o["metadata"].get("labels") or {})
            )
        ]
        body = {
            "apiVersion": api_version,
            "kind": f"{kind}List",
            "metadata": {"resourceVersion": str(next(self._rv))},
            "items": items,
        }
        return Response.json(200, body)

    def _create(
        self, plural: str, ns: str, api_version: str, kind: str, group: str, request: Request
    ) -> Response:
        try:
            body = request.json()
            name = body["metadata"]["name"]
        except (ValueError, KeyError, TypeError):
            return status_error(
                400, "BadRequest", "the object provided is unrecognized or has no name"
            )
        key = (plural, ns, name)
        if key in self.objects:
            return status_error(
                409,
                "AlreadyExists",
                f'{plural}.{group} "{name}" already exists',
                name=name,
                group=group,
                kind=plural,
            )
        meta = body["metadata"]
        meta.update(
            {
                "namespace": ns,
                "uid": str(uuid.uuid4()),
                "resourceVersion": self._next_rv(),
                "creationTimestamp": _ts(),
            }
        )
        meta.setdefault("generation", 1)
        body["apiVersion"], body["kind"] = api_version, kind
        self.objects[key] = body
        self._reconcile()
        return Response.json(201, body)

    def _conflict(self, plural: str, group: str, name: str) -> Response:
        return status_error(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {plural}.{group} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again",
            name=name,
            group=group,
            kind=plural,
        )

    def _store(
        self, key: tuple[str, str, str], old: dict[str, Any], new: dict[str, Any]
    ) -> dict[str, Any]:
        meta = new.setdefault("metadata", {})
        for k in ("name", "namespace", "uid", "creationTimestamp"):
            meta[k] = old["metadata"][k]
        generation = old["metadata"].get("generation", 1)
        if new.get("spec") != old.get("spec"):
            generation += 1
        meta["generation"] = generation
        meta["resourceVersion"] = self._next_rv()
        if key[0] == "deployments":
            new["status"] = old.get("status", {})  # status is only written through /status
        self.objects[key] = new
        self._reconcile()
        return self.objects[key]

    def _replace(
        self, key: tuple[str, str, str], obj: dict[str, Any], group: str, request: Request
    ) -> Response:
        try:
            body = request.json()
        except ValueError:
            return status_error(400, "BadRequest", "invalid JSON body")
        rv = (body.get("metadata") or {}).get("resourceVersion")
        if rv and rv != obj["metadata"]["resourceVersion"]:
            return self._conflict(key[0], group, key[2])
        return Response.json(200, self._store(key, obj, body))

    def _apply_patch(self, doc: dict[str, Any], request: Request) -> dict[str, Any] | Response:
        ctype = (request.headers.get("content-type") or "").split(";")[0].strip()
        try:
            patch = request.json()
        except ValueError:
            return status_error(400, "BadRequest", "invalid JSON patch body")
        try:
            if ctype == "application/json-patch+json":
                if not isinstance(patch, list):
                    return status_error(400, "BadRequest", "json patch must be a list")
                return json_patch(doc, patch)
            if ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                if not isinstance(patch, dict):
                    return status_error(400, "BadRequest", "merge patch must be an object")
                return merge_patch(doc, patch)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            return status_error(422, "Invalid", f"the patch could not be applied: {exc}")
        return status_error(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format: {ctype}",
        )

    def _patch(
        self, key: tuple[str, str, str], obj: dict[str, Any], group: str, request: Request
    ) -> Response:
        new = self._apply_patch(obj, request)
        if isinstance(new, Response):
            return new
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv != obj["metadata"]["resourceVersion"]:
            return self._conflict(key[0], group, key[2])
        return Response.json(200, self._store(key, obj, new))

    def _scale_view(self, dep: dict[str, Any]) -> dict[str, Any]:
        labels = dep["spec"]["selector"].get("matchLabels", {})
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {
                k: dep["metadata"][k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            },
            "spec": {"replicas": dep["spec"].get("replicas", 1)},
            "status": {
                "replicas": dep.get("status", {}).get("replicas", 0),
                "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
            },
        }

    def _written(self, view: dict[str, Any], request: Request) -> dict[str, Any] | Response:
        """The object a PATCH or PUT of `view` asks for (a Status error Response otherwise);
        shared with the stand-in (kube_stack.py)."""
        if request.method == "PATCH":
            return self._apply_patch(view, request)
        if request.method == "PUT":
            try:
                body = request.json()
            except ValueError:
                return status_error(400, "BadRequest", "invalid JSON body")
            return (
                body if isinstance(body, dict) else status_error(400, "BadRequest", "not an object")
            )
        return status_error(405, "MethodNotAllowed", "the server does not allow this method")

    @staticmethod
    def _replicas_of(new: dict[str, Any]) -> int | Response:
        replicas = (new.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            return status_error(
                422, "Invalid", "spec.replicas: Invalid value: must be greater than or equal to 0"
            )
        return replicas

    def _scale(self, key: tuple[str, str, str], dep: dict[str, Any], request: Request) -> Response:
        view = self._scale_view(dep)
        if request.method == "GET":
            return Response.json(200, view)
        new = self._written(view, request)
        if isinstance(new, Response):
            return new
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv and rv != view["metadata"]["resourceVersion"]:
            return self._conflict("deployments", "apps", key[2])
        replicas = self._replicas_of(new)
        if isinstance(replicas, Response):
            return replicas
        updated = copy.deepcopy(dep)
        updated["spec"]["replicas"] = replicas
        self._store(key, dep, updated)
        return Response.json(200, self._scale_view(self.objects[key]))

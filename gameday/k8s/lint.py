"""Project policies on rendered manifests, beyond what a schema can say.

Each rule is a function `(objects) -> problems`; RULES lists them all and
`lint(objects)` runs every one. A problem names the rule, the object and the
field. The rules:
  probes          every Deployment's containers have readiness and liveness probes
                  (a Deployment may opt out with the annotation PROBES_EXEMPT and a reason)
  resources       every pod template's containers request CPU and memory and cap memory
  non-root        every pod runs as non-root without privilege escalation
  pinned-images   no image without a tag or digest, no `:latest` (CRD image fields too)
  failover-rbac   the failover controller's Role grants exactly the calls its
                  failover-config makes (failover_controller_calls), on those names
  references      HPA/VPA targets, Ingress backends, PDB/Service/ServiceMonitor
                  selectors, ConfigMap references and Role resourceNames resolve
  ingress         ingressClassName (not the deprecated annotation) and TLS
  region-zone     no region name used as a `topology.kubernetes.io/zone` value
  autoscaled-ha   a Deployment an HPA scales spreads over zones and has a PDB
Limits: Secrets are created by the platform team, so Secret references are
not checked; selectors are checked with matchLabels only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from gameday.k8s.rbac import rule_failover_rbac

Obj = dict[str, Any]

PROBES_EXEMPT = "gameday.twinme.ai/probes-exempt"
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
ZONE_LABEL = "topology.kubernetes.io/zone"
# AWS/GCP/Azure-style region names: eu-west-3, us-central1, europe-west1. A zone
# adds a letter (eu-west-3a) or a suffix (us-central1-b).
REGION_NAME = re.compile(r"^[a-z]{2,}(-[a-z]+)+-?\d+$")
DEPRECATED_INGRESS_ANNOTATION = "kubernetes.io/ingress.class"


def _name(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {ns}{meta.get('name')}"


def _ns(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace", ""))


def pod_template(obj: Obj) -> Obj | None:
    """The pod template of a workload object, or None for other kinds."""
    spec = obj.get("spec") or {}
    if obj.get("kind") in POD_TEMPLATE_KINDS:
        return spec.get("template")
    if obj.get("kind") == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    return None


def _containers(template: Obj) -> Iterator[tuple[str, Obj]]:
    spec = template.get("spec") or {}
    for field in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(field) or []):
            yield f"spec.template.spec.{field}[{i}] ({c.get('name')})", c


def _workloads(objects: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    for obj in objects:
        template = pod_template(obj)
        if template is not None:
            yield obj, template


def rule_probes(objects: list[Obj]) -> list[str]:
    problems = []
    for obj in objects:
        if obj.get("kind") != "Deployment":
            continue
        exempt = ((obj.get("metadata") or {}).get("annotations") or {}).get(PROBES_EXEMPT)
        if exempt and str(exempt).strip():
            continue
        for where, c in _containers(obj["spec"]["template"]):
            if "initContainers" in where:
                continue
            for probe in ("readinessProbe", "livenessProbe"):
                if not c.get(probe):
                    problems.append(f"probes: {_name(obj)}: {where}: no {probe}")
    return problems


def rule_resources(objects: list[Obj]) -> list[str]:
    problems = []
    for obj, template in _workloads(objects):
        for where, c in _containers(template):
            res = c.get("resources") or {}
            for section, key in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
                if not (res.get(section) or {}).get(key):
                    problems.append(f"resources: {_name(obj)}: {where}: no {section}.{key}")
    return problems


def rule_non_root(objects: list[Obj]) -> list[str]:
    problems = []
    for obj, template in _workloads(objects):
        pod_sc = (template.get("spec") or {}).get("securityContext") or {}
        for where, c in _containers(template):
            sc = c.get("securityContext") or {}
            non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
            if non_root is not True:
                problems.append(f"non-root: {_name(obj)}: {where}: runAsNonRoot is not true")
            if (sc.get("runAsUser", pod_sc.get("runAsUser"))) == 0:
                problems.append(f"non-root: {_name(obj)}: {where}: runAsUser is 0")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(
                    f"non-root: {_name(obj)}: {where}: allowPrivilegeEscalation is not false"
                )
            if sc.get("privileged"):
                problems.append(f"non-root: {_name(obj)}: {where}: privileged")
    return problems


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield f"{path}.{k}" if path else str(k), str(k), v
            yield from _walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def image_problem(image: str) -> str | None:
    """Why an image reference is not pinned, or None when it is."""
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (means :latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return "uses :latest"
    return None


def rule_pinned_images(objects: list[Obj]) -> list[str]:
    problems = []
    for obj in objects:
        if obj.get("kind") in {"ConfigMap", "Secret"}:
            continue
        for path, key, value in _walk(obj.get("spec") or {}):
            if key in {"image", "imageName"} and isinstance(value, str):
                why = image_problem(value)
                if why:
                    problems.append(f"pinned-images: {_name(obj)}: spec.{path}: {value} {why}")
    return problems


def _index(objects: list[Obj]) -> dict[tuple[str, str, str], Obj]:
    return {(str(o.get("kind")), _ns(o), str(o["metadata"].get("name"))): o for o in objects}


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _pod_labels_in(objects: list[Obj], ns: str) -> list[dict[str, str]]:
    return [
        (t.get("metadata") or {}).get("labels") or {}
        for o, t in _workloads(objects)
        if _ns(o) == ns
    ]


Ref = tuple[str, str, str]  # (field, kind, name) an object refers to, in its namespace

_ROLE_RESOURCE_KINDS = {
    "deployments": "Deployment",
    "deployments/scale": "Deployment",
    "deployments/status": "Deployment",
    "ingresses": "Ingress",
}


def rule_references(objects: list[Obj]) -> list[str]:
    idx = _index(objects)
    problems = []
    for obj in objects:
        refs, found = _refs_of(obj, objects, idx)
        problems += found
        ns = _ns(obj)
        for field, target_kind, name in refs:
            if (target_kind, ns, name) not in idx:
                problems.append(f"references: {_name(obj)}: {field}: no {target_kind} {ns}/{name}")
    return problems


def _refs_of(
    obj: Obj, objects: list[Obj], idx: dict[tuple[str, str, str], Obj]
) -> tuple[list[Ref], list[str]]:
    """What one object refers to (the caller checks those exist) and what is wrong on the way."""
    kind = obj.get("kind")
    template = pod_template(obj)
    if template is not None:
        return _template_refs(obj, template, idx)
    if kind == "Ingress":
        return _ingress_refs(obj, idx)
    if kind in {"PodDisruptionBudget", "Service"}:
        return [], _selector_problems(obj, objects)
    if kind == "ServiceMonitor":
        return [], _service_monitor_problems(obj, objects)
    return _named_refs(obj), []


def _named_refs(obj: Obj) -> list[Ref]:
    """HPA and VPA targets, and the objects a Role names in resourceNames."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    refs: list[Ref] = []
    if kind == "HorizontalPodAutoscaler":
        t = spec.get("scaleTargetRef") or {}
        refs.append(("spec.scaleTargetRef", str(t.get("kind")), str(t.get("name"))))
    if kind == "VerticalPodAutoscaler":
        t = spec.get("targetRef") or {}
        refs.append(("spec.targetRef", str(t.get("kind")), str(t.get("name"))))
    if kind == "Role":
        for i, rule in enumerate(obj.get("rules") or []):
            for res in rule.get("resources") or []:
                target_kind = _ROLE_RESOURCE_KINDS.get(res)
                for name in rule.get("resourceNames") or []:
                    if target_kind:
                        refs.append((f"rules[{i}].resourceNames", target_kind, str(name)))
    return refs


def _ingress_refs(obj: Obj, idx: dict[tuple[str, str, str], Obj]) -> tuple[list[Ref], list[str]]:
    """Each backend Service, and its named port."""
    refs: list[Ref] = []
    problems = []
    for r, rule in enumerate((obj.get("spec") or {}).get("rules") or []):
        for p, path in enumerate((rule.get("http") or {}).get("paths") or []):
            svc = (path.get("backend") or {}).get("service") or {}
            field = f"spec.rules[{r}].http.paths[{p}].backend.service"
            refs.append((field, "Service", str(svc.get("name"))))
            target = idx.get(("Service", _ns(obj), str(svc.get("name"))))
            port = (svc.get("port") or {}).get("name")
            if (
                target
                and port
                and port not in {sp.get("name") for sp in target["spec"].get("ports") or []}
            ):
                problems.append(f"references: {_name(obj)}: {field}: no port {port!r}")
    return refs, problems


def _template_refs(
    obj: Obj, template: Obj, idx: dict[tuple[str, str, str], Obj]
) -> tuple[list[Ref], list[str]]:
    """A workload: its selector matches its template; ConfigMap keys, volumes and the
    ServiceAccount it uses exist."""
    spec, ns = obj.get("spec") or {}, _ns(obj)
    refs: list[Ref] = []
    problems = []
    if obj.get("kind") != "CronJob" and "selector" in spec:
        match = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        if not _selects(match, labels):
            problems.append(
                f"references: {_name(obj)}: spec.selector {match} does not match the "
                f"template's labels {labels}"
            )
    tspec = template.get("spec") or {}
    for where, c in _containers(template):
        for e, env in enumerate(c.get("env") or []):
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
            if ref and not ref.get("optional"):
                cm = idx.get(("ConfigMap", ns, str(ref.get("name"))))
                if cm is None or ref.get("key") not in (cm.get("data") or {}):
                    problems.append(
                        f"references: {_name(obj)}: {where}.env[{e}]: no key "
                        f"{ref.get('key')!r} in ConfigMap {ref.get('name')}"
                    )
    for v, vol in enumerate(tspec.get("volumes") or []):
        if "configMap" in vol:
            refs.append((f"volumes[{v}]", "ConfigMap", str(vol["configMap"].get("name"))))
        if "persistentVolumeClaim" in vol:
            claim = str(vol["persistentVolumeClaim"].get("claimName"))
            refs.append((f"volumes[{v}]", "PersistentVolumeClaim", claim))
    sa = tspec.get("serviceAccountName")
    if sa:
        refs.append(("serviceAccountName", "ServiceAccount", str(sa)))
    return refs, problems


def _selector_problems(obj: Obj, objects: list[Obj]) -> list[str]:
    """A PDB's or Service's selector matches some pods in its namespace."""
    spec = obj.get("spec") or {}
    selector = (
        spec.get("selector") or {}
        if obj.get("kind") == "Service"
        else (spec.get("selector") or {}).get("matchLabels") or {}
    )
    if selector and not any(_selects(selector, lab) for lab in _pod_labels_in(objects, _ns(obj))):
        return [f"references: {_name(obj)}: selector {selector} matches no pods"]
    return []


def _service_monitor_problems(obj: Obj, objects: list[Obj]) -> list[str]:
    """A ServiceMonitor selects Services, one per set of pods, that have its ports."""
    spec, ns = obj.get("spec") or {}, _ns(obj)
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    namespaces = (spec.get("namespaceSelector") or {}).get("matchNames") or [ns]
    services = [
        o
        for o in objects
        if o.get("kind") == "Service"
        and _ns(o) in namespaces
        and _selects(selector, (o.get("metadata") or {}).get("labels") or {})
    ]
    problems = []
    if not services:
        problems.append(f"references: {_name(obj)}: selector {selector} matches no Service")
    for labels in _pod_labels_in(objects, ns):
        backing = sorted(
            o["metadata"]["name"]
            for o in services
            if _selects(o["spec"].get("selector") or {}, labels)
        )
        if len(backing) > 1:
            problems.append(
                f"references: {_name(obj)}: selects {len(backing)} Services over the "
                f"same pods ({', '.join(backing)}): each pod would be scraped, and "
                "counted, once per Service"
            )
    for port in {p.get("port") for p in spec.get("endpoints") or []}:
        if services and not any(
            port in {sp.get("name") for sp in s["spec"].get("ports") or []} for s in services
        ):
            problems.append(f"references: {_name(obj)}: no selected Service has port {port!r}")
    return problems


def rule_ingress(objects: list[Obj]) -> list[str]:
    problems = []
    for obj in objects:
        if obj.get("kind") != "Ingress":
            continue
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if DEPRECATED_INGRESS_ANNOTATION in annotations:
            problems.append(
                f"ingress: {_name(obj)}: uses the deprecated {DEPRECATED_INGRESS_ANNOTATION} "
                "annotation (use spec.ingressClassName)"
            )
        if not obj["spec"].get("ingressClassName"):
            problems.append(f"ingress: {_name(obj)}: no spec.ingressClassName")
        tls_hosts = {h for t in obj["spec"].get("tls") or [] for h in t.get("hosts") or []}
        for rule in obj["spec"].get("rules") or []:
            if rule.get("host") and rule["host"] not in tls_hosts:
                problems.append(f"ingress: {_name(obj)}: host {rule['host']} has no TLS")
    return problems


def rule_region_zone(objects: list[Obj]) -> list[str]:
    problems = []
    for obj in objects:
        for path, key, value in _walk(obj):
            values: list[Any] = []
            if key == ZONE_LABEL and isinstance(value, str):
                values = [value]
            if key == "matchExpressions" and isinstance(value, list):
                values = [
                    v
                    for e in value
                    if isinstance(e, dict) and e.get("key") == ZONE_LABEL
                    for v in e.get("values") or []
                ]
            for v in values:
                if isinstance(v, str) and REGION_NAME.match(v):
                    problems.append(
                        f"region-zone: {_name(obj)}: {path}: {v!r} is a region, not a zone "
                        "(use topology.kubernetes.io/region)"
                    )
    return problems


def rule_autoscaled_ha(objects: list[Obj]) -> list[str]:
    problems = []
    idx = _index(objects)
    for hpa in objects:
        if hpa.get("kind") != "HorizontalPodAutoscaler":
            continue
        ref = hpa["spec"].get("scaleTargetRef") or {}
        dep = idx.get((str(ref.get("kind")), _ns(hpa), str(ref.get("name"))))
        if dep is None:
            continue  # reported by `references`
        labels = dep["spec"]["template"]["metadata"].get("labels") or {}
        spread = dep["spec"]["template"]["spec"].get("topologySpreadConstraints") or []
        if not any(c.get("topologyKey") == ZONE_LABEL for c in spread):
            problems.append(f"autoscaled-ha: {_name(dep)}: no topology spread over {ZONE_LABEL}")
        pdbs = [
            o
            for o in objects
            if o.get("kind") == "PodDisruptionBudget"
            and _ns(o) == _ns(dep)
            and _selects((o["spec"].get("selector") or {}).get("matchLabels") or {}, labels)
        ]
        if not pdbs:
            problems.append(f"autoscaled-ha: {_name(dep)}: no PodDisruptionBudget covers it")
    return problems


RULES: dict[str, Callable[[list[Obj]], list[str]]] = {
    "probes": rule_probes,
    "resources": rule_resources,
    "non-root": rule_non_root,
    "pinned-images": rule_pinned_images,
    "failover-rbac": rule_failover_rbac,
    "references": rule_references,
    "ingress": rule_ingress,
    "region-zone": rule_region_zone,
    "autoscaled-ha": rule_autoscaled_ha,
}


def lint(objects: list[Obj]) -> list[str]:
    """Every rule's problems, in rule order."""
    problems: list[str] = []
    for rule in RULES.values():
        problems.extend(rule(objects))
    return problems

"""Render a kustomize overlay in Python, for the subset of kustomize the project uses.

`kubectl kustomize` is the reference, but a kubectl with kustomize v5 is not
in Debian (its kubernetes-client ships kustomize v2, which lacks `labels` and
`patches`), so CI renders with this module; tests/test_k8s_render.py checks
that both renderers agree object for object wherever kubectl is installed.

Supported, with kustomize v5 semantics:
  resources            YAML files (in or below the kustomization's folder) and
                       folders holding a kustomization (anywhere)
  labels               `pairs`, added to metadata.labels only (includeSelectors
                       and includeTemplates must be absent or false)
  patches              RFC 6902 JSON patches (jsonpatch: every op), from
                       `path` or inline `patch`, with a `target` of kind, name
                       and optionally namespace (exact names, not regexes)
  configMapGenerator   `files` and `literals`, with `disableNameSuffixHash: true`
Everything else is refused with ConfigError naming the file and key, rather
than rendered differently from kustomize. Unlike kustomize, a patch whose
target matches nothing is an error (a silent no-op hides typos), and name
references are not rewritten: an overlay that renames an object patches the
references too (`gameday k8s validate` checks that they resolve).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonpatch
import jsonpointer
import yaml

from bedrock.errors import ConfigError
from bedrock.loader import load_data, load_documents, parse_yaml, read_text

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "labels", "patches", "configMapGenerator"}

# kustomize's "legacy" output order: what must exist first comes first.
KIND_ORDER = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
]

Obj = dict[str, Any]

# While building, each object carries the name it was loaded with: kustomize
# lets a later patch target an object by that name after an earlier patch
# renamed it. Removed before render() returns.
_ORIGINAL_NAME = "__gameday_original_name__"


def find_kustomization(folder: Path) -> Path:
    """The kustomization file in `folder`; InputError-style ConfigError when there is none."""
    for name in KUSTOMIZATION_FILES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise ConfigError(str(folder), ["no kustomization.yaml in this folder"])


def render(folder: Path | str) -> list[Obj]:
    """Build the kustomization in `folder`; objects in kustomize's legacy order."""
    root = Path(folder).resolve()
    objects = _build(root, stack=())
    for obj in objects:
        obj.pop(_ORIGINAL_NAME, None)
    _check_unique(objects, str(find_kustomization(root)))
    return sorted(objects, key=_order_key)


def to_yaml(objects: list[Obj]) -> str:
    """Multi-document YAML with sorted keys, as `kubectl kustomize` prints it."""
    return yaml.safe_dump_all(objects, sort_keys=True, default_flow_style=False, width=1000)


def object_id(obj: Obj) -> tuple[str, str, str, str]:
    """(group, kind, namespace, name): what kustomize keys an object by."""
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    meta = obj.get("metadata") or {}
    return (
        group,
        str(obj.get("kind", "")),
        str(meta.get("namespace", "")),
        str(meta.get("name", "")),
    )


def _order_key(obj: Obj) -> tuple[int, str, str, str]:
    _, kind, namespace, name = object_id(obj)
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return (rank, kind, namespace, name)


def _build(folder: Path, stack: tuple[Path, ...]) -> list[Obj]:
    if folder in stack:
        raise ConfigError(str(folder), ["kustomization includes itself through resources"])
    kfile = find_kustomization(folder)
    source = str(kfile)
    spec = _load_mapping(kfile)
    problems = [
        f"{key}: not supported by gameday's kustomize renderer"
        for key in spec
        if key not in SUPPORTED_KEYS
    ]
    if problems:
        raise ConfigError(source, problems)

    objects: list[Obj] = []
    for index, entry in enumerate(_list(spec, "resources", source)):
        where = f"resources[{index}]"
        if not isinstance(entry, str):
            raise ConfigError(source, [f"{where}: expected a path, got {entry!r}"])
        path = (folder / entry).resolve()
        if path.is_dir():
            objects.extend(_build(path, stack + (folder,)))
        elif path.is_file():
            _require_inside(folder, path, source, where)
            for obj in _load_objects(path):
                obj[_ORIGINAL_NAME] = obj["metadata"]["name"]
                objects.append(obj)
        else:
            raise ConfigError(source, [f"{where}: {entry} does not exist"])

    for index, gen in enumerate(_list(spec, "configMapGenerator", source)):
        generated = _generate_configmap(folder, gen, source, f"configMapGenerator[{index}]")
        generated[_ORIGINAL_NAME] = generated["metadata"]["name"]
        objects.append(generated)

    for index, patch in enumerate(_list(spec, "patches", source)):
        _apply_patch_entry(folder, objects, patch, source, f"patches[{index}]")

    for index, label in enumerate(_list(spec, "labels", source)):
        _apply_labels(objects, label, source, f"labels[{index}]")
    return objects


def _load_mapping(path: Path) -> Obj:
    data = load_data(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["expected a mapping at the top level"])
    return data


def _load_objects(path: Path) -> list[Obj]:
    docs = [d.data for d in load_documents(path)]
    problems = [
        f"document {i}: not a Kubernetes object (needs apiVersion, kind, metadata.name)"
        for i, d in enumerate(docs)
        if not (isinstance(d, dict) and d.get("apiVersion") and d.get("kind"))
        or not isinstance(d.get("metadata"), dict)
        or not d["metadata"].get("name")
    ]
    if problems:
        raise ConfigError(str(path), problems)
    return docs


def _list(spec: Obj, key: str, source: str) -> list[Any]:
    value = spec.get(key) or []
    if not isinstance(value, list):
        raise ConfigError(source, [f"{key}: expected a list"])
    return value


def _require_inside(folder: Path, path: Path, source: str, where: str) -> None:
    # kustomize's load restriction: files a kustomization reads live in or below it.
    if not path.is_relative_to(folder):
        raise ConfigError(source, [f"{where}: {path} is outside {folder} (kustomize refuses it)"])


def _generate_configmap(folder: Path, gen: Any, source: str, where: str) -> Obj:
    if not isinstance(gen, dict) or not gen.get("name"):
        raise ConfigError(source, [f"{where}: needs a name"])
    allowed = {"name", "namespace", "files", "literals", "options"}
    problems = [f"{where}.{k}: not supported" for k in gen if k not in allowed]
    options = gen.get("options") or {}
    problems += [
        f"{where}.options.{k}: not supported"
        for k in options
        if k not in {"disableNameSuffixHash", "labels", "annotations"}
    ]
    if options.get("disableNameSuffixHash") is not True:
        problems.append(
            f"{where}.options.disableNameSuffixHash: must be true (name hashes are not reproduced)"
        )
    if problems:
        raise ConfigError(source, problems)
    data: dict[str, str] = {}
    for i, item in enumerate(gen.get("files") or []):
        key, _, rel = str(item).rpartition("=")
        path = (folder / rel).resolve()
        _require_inside(folder, path, source, f"{where}.files[{i}]")
        if not path.is_file():
            raise ConfigError(source, [f"{where}.files[{i}]: {rel} does not exist"])
        data[key or path.name] = path.read_text()
    for i, item in enumerate(gen.get("literals") or []):
        key, sep, value = str(item).partition("=")
        if not sep or not key:
            raise ConfigError(source, [f"{where}.literals[{i}]: expected KEY=VALUE"])
        data[key] = value
    meta: Obj = {"name": gen["name"]}
    if gen.get("namespace"):
        meta["namespace"] = gen["namespace"]
    if options.get("labels"):
        meta["labels"] = dict(options["labels"])
    if options.get("annotations"):
        meta["annotations"] = dict(options["annotations"])
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def _apply_labels(objects: list[Obj], entry: Any, source: str, where: str) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("pairs"), dict):
        raise ConfigError(source, [f"{where}: needs `pairs`"])
    problems = [
        f"{where}.{k}: only `pairs` (metadata labels) is supported"
        for k, v in entry.items()
        if k != "pairs" and not (k in {"includeSelectors", "includeTemplates"} and v is False)
    ]
    if problems:
        raise ConfigError(source, problems)
    for obj in objects:
        labels = obj["metadata"].setdefault("labels", {}) or {}
        labels.update({str(k): str(v) for k, v in entry["pairs"].items()})
        obj["metadata"]["labels"] = labels


def _apply_patch_entry(
    folder: Path, objects: list[Obj], entry: Any, source: str, where: str
) -> None:
    if not isinstance(entry, dict):
        raise ConfigError(source, [f"{where}: expected a mapping"])
    unknown = [k for k in entry if k not in {"path", "patch", "target"}]
    if unknown:
        raise ConfigError(source, [f"{where}.{k}: not supported" for k in unknown])
    if ("path" in entry) == ("patch" in entry):
        raise ConfigError(source, [f"{where}: give exactly one of `path` or `patch`"])
    if "path" in entry:
        path = (folder / str(entry["path"])).resolve()
        _require_inside(folder, path, source, f"{where}.path")
        if not path.is_file():
            raise ConfigError(source, [f"{where}.path: {entry['path']} does not exist"])
        text, origin = read_text(path), str(path)
    else:
        text, origin = str(entry["patch"]), f"{source} {where}.patch"
    ops = parse_yaml(text, origin).data
    if not isinstance(ops, list):
        raise ConfigError(
            origin, ["only RFC 6902 JSON patches (a list of operations) are supported"]
        )
    target = entry.get("target")
    if not isinstance(target, dict) or not target.get("kind") or not target.get("name"):
        raise ConfigError(source, [f"{where}.target: needs kind and name"])
    bad = [k for k in target if k not in {"kind", "name", "namespace"}]
    if bad:
        raise ConfigError(source, [f"{where}.target.{k}: not supported" for k in bad])
    matched = [
        i
        for i, obj in enumerate(objects)
        if obj.get("kind") == target["kind"]
        and target["name"] in (obj["metadata"].get("name"), obj.get(_ORIGINAL_NAME))
        and ("namespace" not in target or obj["metadata"].get("namespace") == target["namespace"])
    ]
    if not matched:
        raise ConfigError(source, [f"{where}.target: no {target['kind']} named {target['name']}"])
    for i in matched:
        try:
            objects[i] = apply_json_patch(objects[i], ops)
        except PatchError as exc:
            raise ConfigError(origin, [f"{target['kind']}/{target['name']}: {exc}"]) from exc


class PatchError(ValueError):
    """A JSON patch operation does not apply to the document."""


def apply_json_patch(doc: Obj, ops: list[Any]) -> Obj:
    """RFC 6902 JSON patch (the `jsonpatch` package) on a copy of `doc`; PatchError names the
    failing operation."""
    result = copy.deepcopy(doc)
    for index, op in enumerate(ops):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"operation {index}: needs `op` and `path`")
        try:
            result = jsonpatch.JsonPatch([op]).apply(result, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise PatchError(f"operation {index} ({op['op']} {op['path']}): {exc}") from None
    return result


def _check_unique(objects: list[Obj], source: str) -> None:
    seen: set[tuple[str, str, str, str]] = set()
    problems = []
    for obj in objects:
        oid = object_id(obj)
        if oid in seen:
            problems.append(f"{oid[1]} {oid[2]}/{oid[3]} is defined twice")
        seen.add(oid)
    if problems:
        raise ConfigError(source, problems)

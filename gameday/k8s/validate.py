"""Validate rendered Kubernetes objects offline: built-in kinds and our custom resources.

Built-in kinds go through kubernetes-validate in strict mode (unknown fields
are errors) against the schemas of KUBERNETES_VERSION. kubernetes-validate
passes kinds it has no schema for, so custom resources are checked against the
JSON schemas kept in manifests/schemas (listed in its index.yaml), which cover
the fields our manifests use; any other kind is rejected. Limits: a schema
checks shape, not meaning (an existing Secret, a reachable bucket); the lint
rules in lint.py check the project's own policies.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from bedrock.errors import ConfigError

# kubectl 1.32 / kustomize 5.5 is what the manifests are rendered and tested with;
# kubernetes-validate ships the 1.32 schemas.
KUBERNETES_VERSION = "1.32"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "manifests" / "schemas"

Obj = dict[str, Any]


def describe(obj: Obj) -> str:
    """`Kind namespace/name`, how problems name an object."""
    meta = obj.get("metadata") or {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind', '?')} {ns}{meta.get('name', '?')}"


@cache
def _schema_index(schema_dir: Path) -> dict[tuple[str, str], Path]:
    index_file = schema_dir / "index.yaml"
    try:
        raw = yaml.safe_load(index_file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(index_file), [f"cannot read the schema index: {exc}"]) from exc
    index: dict[tuple[str, str], Path] = {}
    problems = []
    for api_version, kinds in (raw or {}).items():
        for kind, filename in (kinds or {}).items():
            path = schema_dir / str(filename)
            if not path.is_file():
                problems.append(f"{api_version}.{kind}: {filename} does not exist")
            index[(str(api_version), str(kind))] = path
    if problems:
        raise ConfigError(str(index_file), problems)
    return index


@cache
def _validator(path: Path) -> jsonschema.protocols.Validator:
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def custom_kinds(schema_dir: Path = SCHEMA_DIR) -> dict[tuple[str, str], Path]:
    """(apiVersion, kind) -> schema file, for every custom resource kind we accept."""
    return dict(_schema_index(schema_dir))


def validate_object(obj: Obj, schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Every problem found in one object, each naming the object and the field path."""
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    schema_path = _schema_index(schema_dir).get(key)
    if schema_path is not None:
        errors = sorted(_validator(schema_path).iter_errors(obj), key=lambda e: list(e.path))
        return [f"{describe(obj)}: {_path(e.absolute_path)}: {e.message}" for e in errors]
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [
            f"{describe(obj)}: unknown kind {key[1]} ({key[0]}): not a Kubernetes "
            f"{KUBERNETES_VERSION} kind and no schema in {schema_dir.name}/index.yaml"
        ]
    except kubernetes_validate.ValidationError as exc:
        return [f"{describe(obj)}: {_path(exc.path)}: {exc.message}"]
    return []


def validate_objects(objects: list[Obj], schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Problems across all objects (empty when everything validates)."""
    problems: list[str] = []
    for obj in objects:
        problems.extend(validate_object(obj, schema_dir))
    return problems


def _path(parts: Any) -> str:
    text = ".".join(str(p) for p in parts)
    return text or "(top level)"

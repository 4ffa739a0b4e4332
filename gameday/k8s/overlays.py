"""The bundled overlays: find them, render them (Python or kubectl), check them.

An overlay is named (a folder under manifests/k8s/overlays) or given as a
path. `check_overlay` renders it and returns every schema and lint problem.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Literal

import yaml

from bedrock.errors import InputError, SetupError
from gameday.k8s import lint, render, validate

MANIFESTS_DIR = Path(__file__).resolve().parents[2] / "manifests" / "k8s"
OVERLAYS_DIR = MANIFESTS_DIR / "overlays"
KUBECTL_TIMEOUT_S = 60

Renderer = Literal["python", "kubectl"]
Obj = dict[str, Any]


def list_overlays() -> list[str]:
    """Names of the bundled overlays, sorted."""
    return sorted(p.parent.name for p in OVERLAYS_DIR.glob("*/kustomization.yaml"))


def resolve_overlay(name_or_path: str) -> Path:
    """A bundled overlay's folder by name, or an explicit folder; InputError otherwise."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    candidate = OVERLAYS_DIR / name_or_path
    if "/" not in name_or_path and candidate.is_dir():
        return candidate
    raise InputError(
        f"overlay {name_or_path!r}: not a folder and not one of {', '.join(list_overlays())}"
    )


def render_with_kubectl(folder: Path) -> list[Obj]:
    """`kubectl kustomize FOLDER`, parsed; SetupError when kubectl is missing or fails."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SetupError("kubectl is not installed (use --renderer python)")
    try:
        done = subprocess.run(
            [kubectl, "kustomize", str(folder)],
            capture_output=True,
            text=True,
            timeout=KUBECTL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SetupError(f"kubectl kustomize {folder}: no answer in {KUBECTL_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise InputError(f"kubectl kustomize {folder}: {done.stderr.strip()}")
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def render_overlay(folder: Path, renderer: Renderer = "python") -> list[Obj]:
    """The overlay's objects, rendered by the project's renderer or by kubectl."""
    if renderer == "kubectl":
        return render_with_kubectl(folder)
    return render.render(folder)


def check_objects(objects: list[Obj]) -> list[str]:
    """Schema problems, then lint problems."""
    return validate.validate_objects(objects) + lint.lint(objects)


def check_overlay(folder: Path, renderer: Renderer = "python") -> tuple[list[Obj], list[str]]:
    """Render one overlay and check it: (objects, problems)."""
    objects = render_overlay(folder, renderer)
    return objects, check_objects(objects)

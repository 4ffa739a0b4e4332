"""`gameday k8s render|validate` driven as a user runs it, in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from gameday.k8s.overlays import MANIFESTS_DIR

ROOT = Path(__file__).resolve().parents[2]


def _gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameday", "k8s", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_validate_all_overlays() -> None:
    done = _gameday("validate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "dev: 41 objects, ok",
        "primary: 41 objects, ok",
        "secondary: 41 objects, ok",
    ]


def test_render_writes_the_overlay(tmp_path: Path) -> None:
    out = tmp_path / "secondary.yaml"
    done = _gameday("render", "secondary", "-o", str(out))
    assert done.returncode == 0, done.stderr
    objects = [d for d in yaml.safe_load_all(out.read_text()) if d]
    assert objects[0]["kind"] == "Namespace"
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("Deployment", "twinme-api-secondary") in names
    assert ("Service", "twinme-api-secondary-lb") in names
    cluster = next(o for o in objects if o["kind"] == "Cluster")
    assert cluster["spec"]["replica"] == {"enabled": True, "source": "twinme-postgres-primary"}


def test_a_broken_overlay_exits_2_naming_each_problem(tmp_path: Path) -> None:
    shutil.copytree(MANIFESTS_DIR, tmp_path / "k8s")
    deployment = tmp_path / "k8s" / "base" / "api-deployment.yaml"
    text = deployment.read_text()
    broken = text.replace(
        "      - name: api\n        image: twinme/api:1.0.0\n", "      - image: twinme/api:latest\n"
    )
    assert broken != text
    deployment.write_text(broken)
    done = _gameday("validate", str(tmp_path / "k8s" / "overlays" / "primary"))
    assert done.returncode == 2
    assert "problem(s)" in done.stdout
    assert (
        "Deployment twinme-prod/twinme-api-primary: spec.template.spec.containers.0: "
        "'name' is a required property" in done.stderr
    )
    assert "twinme/api:latest uses :latest" in done.stderr


def test_unknown_overlay_exits_2() -> None:
    done = _gameday("render", "staging")
    assert done.returncode == 2
    assert "overlay 'staging'" in done.stderr and "dev, primary, secondary" in done.stderr


def test_unsupported_kustomize_feature_exits_2(tmp_path: Path) -> None:
    shutil.copytree(MANIFESTS_DIR, tmp_path / "k8s")
    kfile = tmp_path / "k8s" / "overlays" / "dev" / "kustomization.yaml"
    kfile.write_text(kfile.read_text() + "namePrefix: dev-\n")
    done = _gameday("render", str(kfile.parent))
    assert done.returncode == 2
    assert f"{kfile}" in done.stderr and "namePrefix: not supported" in done.stderr

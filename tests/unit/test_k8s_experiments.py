"""The Kubernetes experiments (experiments/k8s/*.yaml): valid Chaos Toolkit files on
chaostoolkit-kubernetes, and the context allowlist enforced before any connection.

`chaos validate` (chaostoolkit's own command) must accept every file;
each file must call chaosk8s activities and declare the allowlist control. A run aimed at a
context that is not allowlisted must be interrupted before its first activity: the fake API
server behind that context (and behind the entry and Prometheus URLs) receives nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from chaoslib.exceptions import InterruptExecution
from click.testing import CliRunner

from gameday.k8s.chaos_control import check_allowed, chosen_contexts
from tests.support.fakes.kube_stack import kubeconfig

REPO = Path(__file__).resolve().parents[2]
FILES = sorted((REPO / "experiments" / "k8s").glob("*.yaml"))
CHAOS = Path(sys.executable).with_name("chaos")
EXPECTED = {"kill-api-pod", "kill-db-primary", "kill-redis-master", "kill-region",
            "kill-failover-controller"}  # fmt: skip


def _activities(doc: dict) -> list[dict]:
    ssh = (doc.get("steady-state-hypothesis") or {}).get("probes") or []
    return ssh + (doc.get("method") or []) + (doc.get("rollbacks") or [])


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GAMEDAY_", "KUBERNETES_", "KUBECONFIG", "CHAOSTOOLKIT_"))}  # fmt: skip
    env.update(extra)
    return env


def test_the_five_experiments_exist_and_use_chaostoolkit_kubernetes() -> None:
    assert {f.stem for f in FILES} >= EXPECTED
    for path in FILES:
        doc = yaml.safe_load(path.read_text())
        modules = {a["provider"]["module"] for a in _activities(doc)}
        assert any(m.startswith("chaosk8s.") for m in modules), path.name
        assert [c["provider"]["module"] for c in doc["controls"]] == ["gameday.k8s.chaos_control"]


def test_every_experiment_passes_chaos_validate(tmp_path: Path) -> None:
    """The `chaos validate` command itself (chaostoolkit's click CLI), in this process:
    the same loading and checks as the `chaos` executable (which takes ~6 s per file to
    start), one file at a time."""
    from chaostoolkit.cli import cli

    runner = CliRunner()
    failed = {}
    for path in FILES:
        result = runner.invoke(
            cli,
            ["--no-version-check", "--log-file", str(tmp_path / f"{path.stem}.log"),
             "--settings", str(tmp_path / "settings.yaml"), "validate", str(path)],
            env=_clean_env(),
        )  # fmt: skip
        log = (tmp_path / f"{path.stem}.log").read_text()
        if result.exit_code != 0 or "look valid" not in log:
            failed[path.name] = (result.exit_code, log[-1500:])
    assert len(FILES) >= 5
    assert not failed, failed


def _kubeconfig(tmp_path: Path, url: str, context: str) -> Path:
    path = tmp_path / "kubeconfig.yaml"
    path.write_text(kubeconfig(url, context=context))
    return path


def test_the_control_resolves_the_context_as_chaostoolkit_kubernetes_does(tmp_path: Path) -> None:
    cfg = _kubeconfig(tmp_path, "http://127.0.0.1:9", "staging")
    env = {"KUBECONFIG": str(cfg)}
    assert chosen_contexts(None, env) == ["staging"]  # the kubeconfig's current-context
    with pytest.raises(InterruptExecution, match="'staging' not on the allowlist"):
        check_allowed(None, env)
    allowed = {**env, "GAMEDAY_K8S_ALLOWED_CONTEXTS": "staging"}
    assert check_allowed(None, allowed) == ["staging"]
    # KUBERNETES_CONTEXT in the experiment's secrets wins, and must exist and be listed
    with pytest.raises(InterruptExecution, match="no context named 'prod'"):
        check_allowed({"kubernetes": {"KUBERNETES_CONTEXT": "prod"}}, allowed)
    with pytest.raises(InterruptExecution, match="KUBERNETES_HOST"):
        check_allowed(None, {**allowed, "KUBERNETES_HOST": "https://10.0.0.1"})
    with pytest.raises(InterruptExecution, match="no kubeconfig"):
        check_allowed(None, {"KUBECONFIG": str(tmp_path / "missing"),
                             "GAMEDAY_K8S_ALLOWED_CONTEXTS": "staging"})  # fmt: skip

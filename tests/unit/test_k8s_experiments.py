"""The Kubernetes experiments (experiments/k8s/*.yaml): valid Chaos Toolkit files on
chaostoolkit-kubernetes, and the context allowlist enforced before any connection.

`chaos validate` (chaostoolkit's own command) must accept every file;
each file must call chaosk8s activities and declare the allowlist control. A run aimed at a
context that is not allowlisted must be interrupted before its first activity: the fake API
server behind that context (and behind the entry and Prometheus URLs) receives nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from chaoslib.exceptions import InterruptExecution
from click.testing import CliRunner

from gameday.k8s.chaos_control import check_allowed, chosen_contexts
from tests.support.fakes.kube_apiserver import FakeKubeApiServer
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


def _two_contexts(tmp_path: Path, url: str, current: str) -> Path:
    """A kubeconfig with `staging` and `production`, both at `url`."""
    doc = yaml.safe_load(kubeconfig(url, context="staging"))
    prod = yaml.safe_load(kubeconfig(url, context="production"))
    for key in ("clusters", "users", "contexts"):
        doc[key] += prod[key]
    doc["current-context"] = current
    path = tmp_path / "kubeconfig.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("via", ["current-context", "secrets"])
def test_a_context_not_allowlisted_is_refused_before_any_request(tmp_path: Path, via: str) -> None:
    """kill-region (it has rollbacks: they are refused too). `production` is chosen by the
    kubeconfig's current-context, or by KUBERNETES_CONTEXT in the experiment's secrets
    (chaoslib hands a control only the arguments it names: this proves it gets them)."""
    experiment = REPO / "experiments" / "k8s" / "kill-region.yaml"
    if via == "secrets":
        doc = yaml.safe_load(experiment.read_text())
        doc["secrets"] = {"k8s": {"KUBERNETES_CONTEXT": "production"}}
        for act in doc["method"] + doc["rollbacks"]:
            if act["provider"]["module"].startswith("chaosk8s."):
                act["provider"]["secrets"] = ["k8s"]
        experiment = tmp_path / "kill-region.yaml"
        experiment.write_text(yaml.safe_dump(doc))
    with FakeKubeApiServer() as fake:
        fake.add_deployment("twinme-prod", "twinme-api-primary", 2,
                            {"app": "twinme-api", "region": "primary"})  # fmt: skip
        current = "production" if via == "current-context" else "staging"
        cfg = _two_contexts(tmp_path, fake.url, current)
        journal = tmp_path / "journal.json"
        env = _clean_env(KUBECONFIG=str(cfg), GAMEDAY_K8S_ALLOWED_CONTEXTS="staging",
                         GAMEDAY_ENTRY_URL=fake.url, GAMEDAY_PROMETHEUS_URL=fake.url,
                         GAMEDAY_FAULT_S="0")  # fmt: skip
        proc = subprocess.run(
            [str(CHAOS), "--no-version-check", "--log-file", str(tmp_path / "chaos.log"), "run",
             "--journal-path", str(journal), "--rollback-strategy", "always", str(experiment)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        requests = list(fake.requests)
    record = json.loads(journal.read_text())
    assert proc.returncode != 0
    assert record["status"] == "interrupted", record["status"]
    assert requests == [], [f"{r.method} {r.path}" for r in requests]
    assert record["run"] == [] and record["rollbacks"] == []
    assert "'production' not on the allowlist" in proc.stderr + proc.stdout

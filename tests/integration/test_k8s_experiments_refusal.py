"""A bundled Kubernetes experiment run with plain `chaos run` refuses a kube context that is
not on the allowlist before any request reaches the API server (the project's fake,
tests/support/fakes/kube_apiserver.py, records every request). Moved from tests/unit:
it starts a server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.fakes.kube_apiserver import FakeKubeApiServer
from tests.support.fakes.kube_stack import kubeconfig
from tests.unit.test_k8s_experiments import CHAOS, REPO, _clean_env

pytestmark = pytest.mark.integration


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

"""The Kubernetes target's safety: kube contexts off the allowlist are refused
with exit code 2 before any connection, and the dry run lists the resources
without calling anything.

Pure checks (no server); the ones observing that no connection is made are in
tests/integration/test_k8s_target_refusal.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bedrock.errors import ConfigError, InputError
from gameday.k8s.allowlist import load_allowlist, require_allowed, resolve_context
from gameday.targets.k8s_settings import load_settings
from gameday.targets.kubernetes import parse_fault
from tests.support.fakes.kube_config import kubeconfig_file as _kubeconfig

ROOT = Path(__file__).resolve().parents[2]


def test_allowlist_from_env_and_file(tmp_path: Path) -> None:
    listed = tmp_path / "allowed"
    listed.write_text("# game-day clusters\nprod-eu-west-3\n\nkind-dev  # local\n")
    allow = load_allowlist(
        {
            "GAMEDAY_K8S_ALLOWED_CONTEXTS": " a , b,",
            "GAMEDAY_K8S_ALLOWED_CONTEXTS_FILE": str(listed),
        }
    )
    assert allow.contexts == {"a", "b", "prod-eu-west-3", "kind-dev"}
    assert load_allowlist({}).contexts == frozenset()
    with pytest.raises(InputError, match="cannot read"):
        load_allowlist({"GAMEDAY_K8S_ALLOWED_CONTEXTS_FILE": str(tmp_path / "missing")})


def test_current_context_is_checked_when_none_is_named(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", 1, current="kind-dev")
    assert resolve_context(kubeconfig, None, {}) == "kind-dev"
    allow = load_allowlist({"GAMEDAY_K8S_ALLOWED_CONTEXTS": "prod-eu-west-3"})
    with pytest.raises(InputError, match="'kind-dev' not on the allowlist"):
        require_allowed([resolve_context(kubeconfig, None, {})], allow, {})


@pytest.mark.parametrize(
    "current, context, message",
    [
        (None, None, "no current-context and no context given"),
        ("kind-dev", "prod-us", "no context named 'prod-us'"),
    ],
)
def test_unresolvable_contexts_are_input_errors(
    tmp_path: Path, current: str | None, context: str | None, message: str
) -> None:
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", 1, current=current)
    with pytest.raises(InputError, match=message):
        resolve_context(kubeconfig, context, {})


def test_in_cluster_needs_its_own_allowlist_entry() -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    assert resolve_context(None, None, env) == "in-cluster"
    with pytest.raises(InputError, match="'in-cluster' not on the allowlist"):
        require_allowed(["in-cluster"], load_allowlist(env), env)
    require_allowed(
        ["in-cluster"], load_allowlist({"GAMEDAY_K8S_ALLOWED_CONTEXTS": "in-cluster"}), env
    )
    with pytest.raises(InputError, match="no kubeconfig"):
        resolve_context(None, None, {})


def test_variables_that_bypass_the_context_are_refused() -> None:
    allow = load_allowlist({"GAMEDAY_K8S_ALLOWED_CONTEXTS": "kind-dev"})
    with pytest.raises(InputError, match="KUBERNETES_HOST set"):
        require_allowed(["kind-dev"], allow, {"KUBERNETES_HOST": "https://10.0.0.1"})


@pytest.mark.parametrize(
    "text, message",
    [
        ("region-loss", "expected KIND:REGION"),
        ("meteor:primary", "KIND one of"),
        ("pod-kill:primary:0", "positive integer"),
    ],
)
def test_fault_syntax(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_fault(text)


def test_target_file_problems_name_their_keys(tmp_path: Path) -> None:
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump({"entry_url": "x", "regions": {"primary": {"contxt": "a"}}}))
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    problems = "\n".join(info.value.problems)
    assert "prometheus_url: Field required" in problems
    assert "regions.primary.deployment: Field required" in problems
    assert "regions.primary.contxt: unknown key" in problems


def test_bundled_example_target_file_is_valid() -> None:
    settings = load_settings(ROOT / "manifests" / "k8s" / "target.example.yaml")
    assert settings.regions["secondary"].deployment == "twinme-api-secondary"

"""The Kubernetes target's safety: kube contexts off the allowlist are refused
with exit code 2 before any connection, and the dry run lists the resources
without calling anything.

The kubeconfigs point at a TCP listener on 127.0.8.1 that counts connections,
so "no API call" is observed, not assumed."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bedrock.errors import ActionError, ConfigError, InputError
from gameday.k8s.allowlist import load_allowlist, require_allowed, resolve_context
from gameday.targets.k8s_settings import TargetSettings, load_settings
from gameday.targets.kubernetes import KubernetesTarget, parse_fault

ROOT = Path(__file__).resolve().parents[2]


class ConnectionCounter:
    """A listener that accepts and counts connections (a stand-in API server address)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.8.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def server() -> Iterator[ConnectionCounter]:
    counter = ConnectionCounter()
    yield counter
    counter.close()


def _kubeconfig(path: Path, port: int, current: str | None = "prod-eu-west-3") -> Path:
    clusters = ["prod-eu-west-3", "prod-eu-central-1", "kind-dev"]
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": c,
                "cluster": {
                    "server": f"https://127.0.8.1:{port}",
                    "insecure-skip-tls-verify": True,
                },
            }
            for c in clusters
        ],
        "users": [{"name": "u", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": c, "context": {"cluster": c, "user": "u"}} for c in clusters],
    }
    if current:
        data["current-context"] = current
    path.write_text(yaml.safe_dump(data))
    return path


def _settings(kubeconfig: Path, primary: str | None = "prod-eu-west-3") -> TargetSettings:
    return TargetSettings.model_validate(
        {
            "kubeconfig": str(kubeconfig),
            "entry_url": "https://api.twinme.ai",
            "prometheus_url": "https://prom.example",
            "regions": {
                "primary": {"context": primary, "deployment": "twinme-api-primary"},
                "secondary": {"context": "prod-eu-central-1", "deployment": "twinme-api-secondary"},
            },
        }
    )


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


def test_refused_context_exits_2_before_any_connection(
    tmp_path: Path, server: ConnectionCounter
) -> None:
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", server.port)
    env = {"GAMEDAY_K8S_ALLOWED_CONTEXTS": "prod-eu-west-3,kind-dev"}
    with pytest.raises(InputError) as info:
        KubernetesTarget(_settings(kubeconfig), env=env)
    assert info.value.exit_code == 2
    assert "'prod-eu-central-1' not on the allowlist" in str(info.value)
    assert "refusing before any API call" in str(info.value)
    assert server.accepted == 0


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


def test_dry_run_lists_every_resource_and_calls_nothing(
    tmp_path: Path, server: ConnectionCounter
) -> None:
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", server.port)
    env = {"GAMEDAY_K8S_ALLOWED_CONTEXTS": "prod-eu-west-3,prod-eu-central-1"}
    target = KubernetesTarget(_settings(kubeconfig), env=env)
    faults = [
        parse_fault("region-loss:primary"),
        parse_fault("pod-kill:secondary:2"),
        parse_fault("controller-kill:secondary"),
        parse_fault("db-primary-kill:primary"),
    ]
    lines = [str(c) for c in target.plan(faults)]
    assert lines == [
        "[prod-eu-west-3] get deployments/scale twinme-prod/twinme-api-primary: remember replicas",
        "[prod-eu-west-3] patch deployments/scale twinme-prod/twinme-api-primary: replicas -> 0 (rollback: back to the remembered count)",
        "[prod-eu-central-1] list pods twinme-prod/-l app=twinme-api,region=secondary: pick pods",
        "[prod-eu-central-1] delete pods twinme-prod/-l app=twinme-api,region=secondary: 2 pod(s), grace period 0",
        "[prod-eu-central-1] get leases twinme-prod/twinme-failover: find the leader",
        "[prod-eu-central-1] delete pods twinme-prod/-l app=failover-controller: the pod named by the Lease's holderIdentity",
        "[prod-eu-west-3] list pods twinme-prod/-l cnpg.io/cluster=twinme-postgres,cnpg.io/instanceRole=primary: find the primary",
        "[prod-eu-west-3] delete pods twinme-prod/-l cnpg.io/cluster=twinme-postgres,cnpg.io/instanceRole=primary: 1 pod, grace period 0",
    ]
    assert target.chaos_secrets("secondary") == {"KUBERNETES_CONTEXT": "prod-eu-central-1"}
    assert (target.entry_url, target.regions) == ("https://api.twinme.ai", ["primary", "secondary"])
    assert server.accepted == 0


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


def _plan_cli(tmp_path: Path, port: int, allowed: str) -> subprocess.CompletedProcess[str]:
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", port)
    target = tmp_path / "target.yaml"
    target.write_text(_settings(kubeconfig).model_dump_json())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GAMEDAY_K8S_ALLOWED_CONTEXTS": allowed}
    return subprocess.run(
        [sys.executable, "-m", "gameday", "k8s", "plan", str(target), "region-loss:primary"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_refuses_with_exit_2_and_no_connection(
    tmp_path: Path, server: ConnectionCounter
) -> None:
    done = _plan_cli(tmp_path, server.port, allowed="prod-eu-west-3")
    assert done.returncode == 2, done.stderr
    assert "'prod-eu-central-1' not on the allowlist" in done.stderr
    assert done.stdout == ""
    assert server.accepted == 0


def test_cli_dry_run_prints_the_plan(tmp_path: Path, server: ConnectionCounter) -> None:
    done = _plan_cli(tmp_path, server.port, allowed="prod-eu-west-3,prod-eu-central-1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "[prod-eu-west-3] get deployments/scale twinme-prod/twinme-api-primary: remember replicas",
        "[prod-eu-west-3] patch deployments/scale twinme-prod/twinme-api-primary: replicas -> 0 (rollback: back to the remembered count)",
    ]
    assert server.accepted == 0


def test_the_counter_sees_a_real_call(tmp_path: Path, server: ConnectionCounter) -> None:
    """Control for the "no connection" assertions: an allowed call does connect."""
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", server.port)
    env = {"GAMEDAY_K8S_ALLOWED_CONTEXTS": "prod-eu-west-3,prod-eu-central-1"}
    target = KubernetesTarget(_settings(kubeconfig), env=env)
    with pytest.raises(ActionError) as info:
        target.replicas("primary")
    assert info.value.retryable
    assert server.accepted >= 1

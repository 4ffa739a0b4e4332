"""The Kubernetes target refuses kube contexts off the allowlist with exit code 2 before any
connection, and the dry run lists the resources without calling anything.

The kubeconfigs point at a TCP listener on 127.0.8.1 that counts connections, so "no API
call" is observed, not assumed (moved from tests/unit: it starts a listener)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bedrock.errors import ActionError, InputError
from gameday.targets.kubernetes import KubernetesTarget, parse_fault
from tests.support.fakes.kube_config import kubeconfig_file as _kubeconfig
from tests.support.fakes.kube_config import two_regions as _settings

pytestmark = pytest.mark.integration
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

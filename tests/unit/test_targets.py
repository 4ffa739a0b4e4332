"""The one Target interface: faults as values, and both implementations on its signatures.

No server runs here: the local target is built from a handle file with an in-memory fault
journal (only what needs no process: plans, handles, refusals before anything is
journaled); the Kubernetes target's calls are in test_k8s_target_api.py (fake API server).
The local target's faults on a real stack are in tests/integration/test_target_local.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bedrock.errors import ActionError, InputError
from gameday.targets import Target, as_target, faults
from gameday.targets.k8s_settings import TargetSettings
from gameday.targets.kubernetes import KubernetesTarget, parse_fault
from gameday.targets.local import LocalTarget
from stack.control import Stack
from stack.faults import MemoryJournal


def _handles(root: Path) -> dict[str, Any]:
    region = {
        "url": "http://127.0.250.1:8080",
        "role": "active",
        "api_host": "127.0.250.50",
        "api_base_port": 8100,
        "api_replicas": 2,
        "api_max_replicas": 4,
        "admin_socket": str(root / "haproxy-primary.sock"),
    }
    return {
        "state_dir": str(root),
        "entry_url": "http://127.0.250.9:8080",
        "prometheus_url": "http://127.0.250.9:9090",
        "regions": {"primary": region, "secondary": {**region, "role": "standby"}},
        "programs": {
            "api-primary-0": {"region": "primary", "role": "api", "index": 0},
            "api-primary-1": {"region": "primary", "role": "api", "index": 1},
            "pg-primary": {"region": "primary", "role": "postgres", "index": 0},
            "autoscaler": {"region": "global", "role": "autoscaler", "index": 0},
        },
        "patroni_urls": {"pg-primary": "http://127.0.250.20:1"},  # nothing listens
    }


@pytest.fixture
def local(tmp_path: Path) -> LocalTarget:
    (tmp_path / "replicas.json").write_text('{"primary": 2, "secondary": 2}')
    return LocalTarget(Stack(_handles(tmp_path), journal=MemoryJournal()))


def _k8s(tmp_path: Path) -> KubernetesTarget:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.250.7:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: dev, context: {cluster: c, user: u}}]\n"
    )
    settings = TargetSettings.model_validate(
        {
            "kubeconfig": str(kubeconfig),
            "entry_url": "https://api.example",
            "prometheus_url": "https://prom.example",
            "regions": {"primary": {"deployment": "twinme-api-primary"}},
        }
    )
    return KubernetesTarget(settings, env={"GAMEDAY_K8S_ALLOWED_CONTEXTS": "dev"})


@pytest.mark.parametrize(
    "text, value",
    [
        ("region-loss:primary", faults.RegionLoss("primary")),
        ("region-freeze:secondary", faults.RegionFreeze("secondary")),
        ("pod-kill:primary", faults.PodKill("primary", 1)),
        ("pod-kill:primary:3", faults.PodKill("primary", 3)),
        ("latency:primary:400", faults.Latency("primary", 400)),
        ("scale-region:primary:0", faults.ScaleRegion("primary", 0)),
        ("cache-partition:primary:50", faults.CachePartition("primary", loss_pct=50)),
        ("db-primary-kill:primary", faults.DbPrimaryKill("primary")),
    ],
)
def test_faults_are_values_that_read_back_from_their_text(text: str, value: Any) -> None:
    assert faults.parse(text) == value
    assert faults.parse(faults.describe(value)) == value
    assert hash(value) == hash(faults.parse(text))


@pytest.mark.parametrize(
    "text, message",
    [
        ("scale-region:primary", "needs a number"),
        ("region-loss:primary:2", "takes no number"),
        ("latency:primary:-5", "positive integer"),
        ("a:b:c:d", "expected KIND:REGION"),
    ],
)
def test_bad_fault_text_is_an_input_error(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        faults.parse(text)


def test_both_implementations_are_targets(local: LocalTarget, tmp_path: Path) -> None:
    k8s = _k8s(tmp_path)
    assert isinstance(local, Target) and isinstance(k8s, Target)
    assert as_target(local.stack) is not local.stack and as_target(local) is local
    assert as_target(k8s) is k8s
    with pytest.raises(TypeError):
        as_target(object())


def test_local_handles_and_description(local: LocalTarget, tmp_path: Path) -> None:
    h = local.handles
    assert h.entry_url == h.ledger_url == "http://127.0.250.9:8080"
    assert h.regions == {
        "primary": "http://127.0.250.1:8080",
        "secondary": "http://127.0.250.1:8080",
    }
    assert h.state_dir == tmp_path and h.events_dir == tmp_path / "events"
    assert local.scales_on_load  # the handle file lists an autoscaler program
    assert local.describe() == {"name": "local", "state_dir": str(tmp_path)}


def test_local_plan_names_what_each_fault_would_hit(local: LocalTarget) -> None:
    lines = local.plan(
        [
            faults.RegionLoss("primary"),
            faults.PodKill("primary", 2),
            faults.Latency("primary", 250),
            faults.CachePartition("primary", addr="127.0.250.31:6379"),
            faults.DbPrimaryKill("primary"),  # nobody answers: the leader stays unresolved
        ]
    )
    assert lines == [
        "region-loss:primary: power-cut region primary",
        "pod-kill:primary:2: kill api-primary-0, kill api-primary-1",
        "latency:primary:250: 250 ms latency through primary's load balancer",
        "cache-partition:primary:100: drop 100 % of TCP to 127.0.250.31:6379",
        "db-primary-kill:primary: kill pg-<leader>",
    ]
    assert local.stack.journal.entries() == [], "a plan journals nothing"


def test_local_refusals_come_before_the_journal(local: LocalTarget) -> None:
    with pytest.raises(ActionError, match="outside 0..60000"):
        local.inject(faults.Latency("primary", 70_000))
    with pytest.raises(ActionError, match="unknown API region"):
        local.inject(faults.ScaleRegion("nowhere", 1))
    assert local.stack.journal.entries() == []


def test_k8s_refuses_what_it_cannot_cause_naming_what_it_can(tmp_path: Path) -> None:
    k8s = _k8s(tmp_path)
    assert k8s.supports(faults.RegionLoss("primary"))
    assert not k8s.supports(faults.Latency("primary", 100))
    with pytest.raises(InputError, match="cannot cause latency .*region-loss, pod-kill"):
        k8s.plan([faults.Latency("primary", 100)])
    with pytest.raises(InputError, match="cannot cause region-freeze"):
        k8s.inject(faults.RegionFreeze("primary"))
    with pytest.raises(InputError, match="KIND one of region-loss, pod-kill"):
        parse_fault("latency:primary:100")
    with pytest.raises(InputError, match="unknown region 'mars'"):
        k8s.plan([faults.RegionLoss("mars")])
    assert k8s.plan([faults.ScaleRegion("primary", 4)])[1].endswith(
        "replicas -> 4 (rollback: back to the remembered count)"
    )
    with pytest.raises(ActionError, match="not observable"):
        k8s.edge_regions()

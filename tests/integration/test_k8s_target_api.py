"""The Kubernetes target's fault calls against the project's fake API server,
over real HTTP with the unchanged kubernetes client, through a kubeconfig and
the context allowlist, as on a cluster.

Each fault is judged on before/after evidence read back from the server: the
Deployment's replicas, which pods exist, who held the Lease. The same fake answers the
entry point's /health and a failover controller's /status (the safety net waits for the
entry; the controllers' events are mirrored from /status). Moved from tests/unit: it
starts a server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bedrock.errors import InputError
from gameday.targets import faults
from gameday.targets.base import HomeCheck, Replicas
from gameday.targets.k8s_settings import TargetSettings
from gameday.targets.kubernetes import KubernetesTarget, parse_fault
from tests.support.fakes import kube_apiserver
from tests.support.fakes._http import Request, Response

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
NS = "twinme-prod"


class ClusterAndEdge(kube_apiserver.FakeKubeApiServer):
    """The fake API server that also answers the entry's /health and a controller's /status."""

    recent_events: list[dict[str, Any]] = []

    def handle(self, request: Request) -> Response:
        if request.path == "/health":
            return Response.json(200, {"status": "ok"})
        if request.path == "/status":
            return Response.json(200, {"leader": True, "recent_events": self.recent_events})
        return super().handle(request)


CONTEXTS = {"primary": "fake-eu-west-3", "secondary": "fake-eu-central-1"}


@pytest.fixture
def fake() -> Iterator[Any]:
    server = ClusterAndEdge(host="127.0.8.2")
    with server:
        server.add_deployment(
            NS, "twinme-api-primary", 3, {"app": "twinme-api", "region": "primary"}
        )
        server.add_deployment(
            NS, "twinme-api-secondary", 2, {"app": "twinme-api", "region": "secondary"}
        )
        server.add_deployment(NS, "failover-controller", 2, {"app": "failover-controller"})
        for name, role in (("twinme-postgres-1", "primary"), ("twinme-postgres-2", "replica")):
            server.add_object(
                "pods",
                NS,
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": name,
                        "labels": {
                            "cnpg.io/cluster": "twinme-postgres",
                            "cnpg.io/instanceRole": role,
                        },
                    },
                    "status": {"phase": "Running"},
                },
            )
        yield server


def _pods(fake: Any, selector: dict[str, str]) -> set[str]:
    with fake.lock:
        return {
            name
            for (plural, ns, name), obj in fake.objects.items()
            if plural == "pods"
            and ns == NS
            and all(obj["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())
        }


def _target(fake: Any, tmp_path: Path, allowed: str, **extra: Any) -> KubernetesTarget:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": c, "cluster": {"server": fake.url}} for c in CONTEXTS.values()
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [
                    {"name": c, "context": {"cluster": c, "user": "u"}} for c in CONTEXTS.values()
                ],
            }
        )
    )
    settings = TargetSettings.model_validate(
        {
            "kubeconfig": str(kubeconfig),
            "entry_url": fake.url,
            "prometheus_url": "https://prom.example",
            "regions": {
                region: {"context": ctx, "deployment": f"twinme-api-{region}"}
                for region, ctx in CONTEXTS.items()
            },
            **extra,
        }
    )
    env = {"GAMEDAY_K8S_ALLOWED_CONTEXTS": allowed, "TMPDIR": str(tmp_path)}
    return KubernetesTarget(settings, env=env)


def test_region_loss_scales_to_zero_and_rollback_restores(fake: Any, tmp_path: Path) -> None:
    target = _target(fake, tmp_path, ",".join(CONTEXTS.values()))
    assert target.replicas("primary") == (3, 3)
    injected = target.inject(parse_fault("region-loss:primary"))
    assert injected.replicas_before == 3
    assert injected.hit == ["deployments/twinme-api-primary"]
    assert fake.get_object("deployments", NS, "twinme-api-primary")["spec"]["replicas"] == 0
    assert _pods(fake, {"region": "primary"}) == set()
    assert target.replicas("secondary") == (2, 2), "the other region is untouched"
    target.undo(injected)
    assert target.replicas("primary") == (3, 3)


def test_pod_kill_deletes_exactly_count_pods_of_the_region(fake: Any, tmp_path: Path) -> None:
    target = _target(fake, tmp_path, ",".join(CONTEXTS.values()))
    before = _pods(fake, {"region": "secondary"})
    primary_before = _pods(fake, {"region": "primary"})
    injected = target.inject(parse_fault("pod-kill:secondary:1"))
    killed = {h.removeprefix("pods/") for h in injected.hit}
    assert len(killed) == 1 and killed <= before
    after = _pods(fake, {"region": "secondary"})
    assert not killed & after, "the killed pod is gone"
    assert len(after) == 2, "the Deployment replaced it"
    assert _pods(fake, {"region": "primary"}) == primary_before


def test_controller_kill_deletes_the_lease_holder(fake: Any, tmp_path: Path) -> None:
    controllers = sorted(_pods(fake, {"app": "failover-controller"}))
    fake.add_object(
        "leases",
        NS,
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "twinme-failover"},
            "spec": {"holderIdentity": controllers[1], "leaseDurationSeconds": 10},
        },
    )
    target = _target(fake, tmp_path, ",".join(CONTEXTS.values()))
    assert target.lease_holder("primary") == controllers[1]
    injected = target.inject(parse_fault("controller-kill:primary"))
    assert injected.hit == [f"pods/{controllers[1]}"]
    after = _pods(fake, {"app": "failover-controller"})
    assert controllers[1] not in after and controllers[0] in after


def test_db_primary_kill_deletes_only_the_primary(fake: Any, tmp_path: Path) -> None:
    target = _target(fake, tmp_path, ",".join(CONTEXTS.values()))
    injected = target.inject(parse_fault("db-primary-kill:primary"))
    assert injected.hit == ["pods/twinme-postgres-1"]
    assert _pods(fake, {"cnpg.io/cluster": "twinme-postgres"}) == {"twinme-postgres-2"}


def test_refused_context_sends_no_request(fake: Any, tmp_path: Path) -> None:
    with fake.lock:
        seen = len(fake.requests)
    with pytest.raises(InputError) as info:
        _target(fake, tmp_path, CONTEXTS["primary"])
    assert info.value.exit_code == 2
    with fake.lock:
        assert len(fake.requests) == seen


def test_restore_undoes_what_was_injected_and_not_undone(fake: Any, tmp_path: Path) -> None:
    target = _target(fake, tmp_path, ",".join(CONTEXTS.values()))
    scaled = target.inject(faults.ScaleRegion("secondary", 1))
    lost = target.inject(faults.RegionLoss("primary"))
    assert (scaled.replicas_before, lost.replicas_before) == (2, 3)
    assert target.replicas("secondary") == Replicas(desired=1, ready=1)
    assert target.desired_replicas("primary") == 0
    said: list[str] = []
    done = target.restore(said.append)
    assert done["undone"] == ["region-loss:primary", "scale-region:secondary:1"]
    assert said == ["undid region-loss:primary", "undid scale-region:secondary:1"]
    assert target.replicas("primary") == (3, 3) and target.replicas("secondary") == (2, 2)
    assert target.restore(said.append)["undone"] == [], "nothing is undone twice"


def _partition(fake: Any, name: str, managed: bool) -> None:
    labels = {"app.kubernetes.io/managed-by": "gameday"} if managed else {"team": "net"}
    fake.add_object("networkpolicies", NS, {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": labels},
        "spec": {"podSelector": {"matchLabels": {"region": "primary"}}, "policyTypes": ["Ingress"]},
    })  # fmt: skip


def test_the_safety_net_undoes_what_a_chaos_process_left(fake: Any, tmp_path: Path) -> None:
    """What an experiment's own process did (not through `inject`): a region scaled to 0 and
    gameday's partition policy; `restore` undoes both from the journal, and leaves a
    NetworkPolicy gameday did not create alone."""
    target = _target(fake, tmp_path, ",".join(CONTEXTS.values()))
    target.begin_runs()
    other = _target(fake, tmp_path, ",".join(CONTEXTS.values()))  # the chaos process
    other.scale("primary", 0)
    _partition(fake, "gameday-partition-primary", managed=True)
    _partition(fake, "their-policy", managed=False)
    said: list[str] = []
    done = target.restore(said.append)
    assert done["network_policies_removed"] == ["primary/gameday-partition-primary"]
    assert done["scaled_back"] == {"primary": 3}
    assert target.replicas("primary") == (3, 3)
    with fake.lock:
        policies = {n for (p, _, n) in fake.objects if p == "networkpolicies"}
    assert policies == {"their-policy"}
    assert said == ["deleted NetworkPolicy gameday-partition-primary in primary",
                    "scaled primary's API back to 3 replicas"]  # fmt: skip


def test_recover_after_a_dead_runner_reads_its_journal(fake: Any, tmp_path: Path) -> None:
    """A runner journals the counts, breaks the region and dies: `gameday recover --target
    k8s` (a new process) scales it back from the journal and clears it."""
    dead = _target(fake, tmp_path, ",".join(CONTEXTS.values()))
    dead.begin_runs()
    dead.scale("secondary", 0)
    journal = dead.state_root / "safety-net.json"
    assert journal.is_file()
    target_file = tmp_path / "target.yaml"
    target_file.write_text(dead.settings.model_dump_json())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path),
           "GAMEDAY_K8S_ALLOWED_CONTEXTS": ",".join(CONTEXTS.values()),
           "GAMEDAY_K8S_TARGET": str(target_file)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "gameday", "recover", "--target", "k8s",
         "--runs-dir", str(tmp_path / "runs"), "--deadline", "20"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scaled secondary's API back to 2 replicas" in done.stdout
    assert dead.replicas("secondary") == (2, 2)
    assert not journal.exists(), "the journal is cleared"
    dead.scale("secondary", 0)  # no journal now: recover does not guess a count
    said: list[str] = []
    assert dead.recover(said.append, deadline_s=0.5)[0].startswith("not back at home")
    assert said == []
    dead.scale("secondary", 2)


def test_controller_events_reach_the_handles_events_dir(fake: Any, tmp_path: Path) -> None:
    """The controller's /status events, mirrored while runs go on, land in events_dir in the
    local stack's format (what `merge_stack_events` reads)."""
    from bedrock.runfolder.events import read_event_file

    target = _target(fake, tmp_path, ",".join(CONTEXTS.values()), controller_urls=[fake.url])
    fake.recent_events = [
        {"t_wall": 1000.0, "t_mono": 5.0, "kind": "failover.detected", "source": "failover",
         "detail": {"region": "primary"}},
    ]  # fmt: skip
    with target.collecting_events():
        events_dir = target.handles.events_dir
        assert events_dir is not None
        fake.recent_events = [
            *fake.recent_events,
            {
                "t_wall": 1001.5,
                "t_mono": 6.5,
                "kind": "failover.completed",
                "source": "failover",
                "detail": {},
            },
        ]
        target.restore(lambda _m: None)  # its last step polls the controllers
        [path] = sorted(events_dir.glob("*.jsonl"))
        got = read_event_file(path)
    assert [(e.kind, e.t_wall) for e in got] == [("failover.detected", 1000.0),
                                                 ("failover.completed", 1001.5)]  # fmt: skip
    assert got[1].t_mono - got[0].t_mono == pytest.approx(1.5)  # wall spacing, local clock
    assert got[0].detail == {"region": "primary", "remote_t_mono": 5.0}
    assert not events_dir.exists(), "the mirror's folder goes with the session"


def test_observations_read_the_cluster(fake: Any, tmp_path: Path) -> None:
    target = _target(fake, tmp_path, ",".join(CONTEXTS.values()))
    assert target.db_leader() == "twinme-postgres-1"
    assert target.at_home() == HomeCheck(
        True,
        "entry /health 200, replicas (desired, ready) {'primary': (3, 3), 'secondary': (2, 2)}",
    )
    target.inject(faults.RegionLoss("primary"))
    assert not target.at_home().ok
    target.inject(faults.DbPrimaryKill("primary"))
    assert target.db_leader() is None, "no pod carries the primary label any more"

"""The controller end to end against the Kubernetes, Slack fakes over real HTTP.

Health is scripted (the probe function is injected through the constructor);
everything else is real: the Ingress switch, the Deployment scaler and the Lease
lock talk to the fake API server, alerts go to the fake Slack webhook, events to
a real events.jsonl. Cycles are driven one by one; waits are on conditions.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from failover.backends.kube import DeploymentScaler, IngressSwitch
from failover.backends.lease_lock import KubernetesLeaseLock, LocalLock
from failover.backends.simple import FanoutNotifier, SlackNotifier
from failover.config import parse_config
from failover.controller import Controller
from failover.events import EventLog
from failover.health import ProbeResult
from failover.server import StatusServer
from tests.integration.test_failover_backends_http import NS, twinme_cluster
from tests.support.failover_support import wait_for
from tests.support.fakes.slack import FakeSlackWebhook

SERVICES = {"primary": "api-primary", "secondary": "api-secondary"}
DEPLOYMENTS = {"primary": "twinme-api-primary", "secondary": "twinme-api-secondary"}


class Health:
    def __init__(self) -> None:
        self.ok = {"primary": True, "secondary": True}

    def __call__(self) -> dict[str, ProbeResult]:
        return {
            r: ProbeResult(ok, "ok" if ok else "conn_error", 0.001, time.time())
            for r, ok in self.ok.items()
        }


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def config(**policy: object):
    return parse_config(
        {
            "regions": {
                "primary": {"health_url": "http://127.0.7.3:1/health", "target_replicas": 3},
                "secondary": {"health_url": "http://127.0.7.4:1/health", "target_replicas": 4},
            },
            "home_region": "primary",
            "detection": {"down_after": 3, "up_after": 3},
            "policy": {"ready_poll_s": 0.05, "step_retry_s": 0.05, **policy},
            "traffic": {
                "kind": "k8s_ingress",
                "namespace": NS,
                "ingress": "twinme-api",
                "services": SERVICES,
            },
        }
    )


@pytest.fixture
def kube():
    with twinme_cluster(ready_delay_s=0.1) as fake:
        yield fake


@pytest.fixture
def slack():
    with FakeSlackWebhook() as fake:
        yield fake


def make(
    kube, slack, events: Path, health: Health, lock, clock: Clock, **policy: object
) -> Controller:
    api = kube.api_client()
    return Controller(
        config(**policy),
        lock=lock,
        traffic=IngressSwitch(api, NS, "twinme-api", SERVICES),
        load_balancer=None,
        scaler=DeploymentScaler(api, NS, DEPLOYMENTS),
        notifier=FanoutNotifier([SlackNotifier(SecretStr(slack.webhook_url))]),
        events=EventLog(events),
        probe_all=health,
        clock=clock,
    )


def drive(ctl: Controller, clock: Clock, until, timeout_s: float = 20.0) -> list[str]:
    sentences = []
    deadline = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached; sentences:\n" + "\n".join(sentences[-10:]))
        sentences.append(ctl.run_cycle())
        clock.t += 1.0
        time.sleep(0.02)
    return sentences


def settled(ctl: Controller) -> bool:
    """The operation finished and its worker has been reaped (events and notifications sent)."""
    return (
        ctl.operation is not None and ctl.operation.status != "in_progress" and ctl._future is None
    )


def flush_notifications(ctl: Controller) -> None:
    """Wait until the loop's notifications (sent on a side thread, FIFO) have gone out."""
    ctl._notify_pool.submit(lambda: None).result(timeout=10)


def kinds(path: Path) -> list[str]:
    return [json.loads(line)["kind"] for line in path.read_text().splitlines()]


def ingress_service(kube) -> str:
    return kube.get_object("ingresses", NS, "twinme-api")["spec"]["rules"][0]["http"]["paths"][0][
        "backend"
    ]["service"]["name"]


def test_failover_runs_every_step_and_records_events(kube, slack, tmp_path):
    clock, health, events = Clock(), Health(), tmp_path / "events.jsonl"
    ctl = make(kube, slack, events, health, LocalLock("ctl-a"), clock)
    drive(ctl, clock, lambda: ctl.trackers["primary"].state == "up")
    health.ok["primary"] = False
    sentences = drive(ctl, clock, lambda: settled(ctl))
    assert any("failing over to secondary" in s for s in sentences)
    assert ctl.operation.status == "completed", ctl.operation
    assert kinds(events) == [
        "controller.leader", "failover.detected", "failover.traffic_switched", "failover.scaled",
        "failover.ready", "failover.lb_updated", "failover.completed",
    ]  # fmt: skip
    lines = [json.loads(x) for x in events.read_text().splitlines()]
    assert all(isinstance(e["t_wall"], float) and isinstance(e["t_mono"], float) for e in lines)
    assert lines[1]["detail"]["reasons"]["primary"] == "conn_error"
    assert ingress_service(kube) == "api-secondary"
    assert kube.get_object("deployments", NS, "twinme-api-secondary")["spec"]["replicas"] == 4
    assert (
        kube.get_object("deployments", NS, "twinme-api-primary")["spec"]["replicas"] == 3
    )  # not scaled down
    assert ctl.active == "secondary"
    flush_notifications(ctl)
    assert any("failing over" in m["text"] for m in slack.messages)
    assert any("completed" in m["text"] for m in slack.messages)
    ctl.shutdown()


def test_source_scaled_down_only_when_asked(kube, slack, tmp_path):
    clock, health, events = Clock(), Health(), tmp_path / "events.jsonl"
    ctl = make(kube, slack, events, health, LocalLock("ctl-a"), clock, scale_down_source=True)
    drive(ctl, clock, lambda: ctl.trackers["primary"].state == "up")
    health.ok["primary"] = False
    drive(ctl, clock, lambda: settled(ctl))
    assert "failover.source_scaled_down" in kinds(events)
    assert kube.get_object("deployments", NS, "twinme-api-primary")["spec"]["replicas"] == 0
    ctl.shutdown()


def test_ready_deadline_fails_loudly_and_traffic_stays_switched(kube, slack, tmp_path):
    clock, health, events = Clock(), Health(), tmp_path / "events.jsonl"
    kube.hold_unready.add((NS, "twinme-api-secondary"))
    ctl = make(kube, slack, events, health, LocalLock("ctl-a"), clock, ready_timeout_s=0.5)
    drive(ctl, clock, lambda: ctl.trackers["primary"].state == "up")
    health.ok["primary"] = False
    drive(ctl, clock, lambda: settled(ctl))
    assert ctl.operation.status == "failed" and ctl.operation.error.startswith("ready:")
    assert kinds(events)[-1] == "failover.failed"
    assert ctl.active == "secondary" and ingress_service(kube) == "api-secondary"
    assert any("FAILED at ready" in m["text"] for m in slack.messages)
    ctl.shutdown()


def test_both_down_no_switch_one_alert(kube, slack, tmp_path):
    clock, health, events = Clock(), Health(), tmp_path / "events.jsonl"
    ctl = make(kube, slack, events, health, LocalLock("ctl-a"), clock)
    drive(ctl, clock, lambda: ctl.trackers["primary"].state == "up")
    health.ok = {"primary": False, "secondary": False}
    sentences = drive(ctl, clock, lambda: ctl.trackers["primary"].state == "down")
    for _ in range(5):
        sentences.append(ctl.run_cycle())
        clock.t += 1
    assert "not switching" in sentences[-1]
    assert ingress_service(kube) == "api-primary"
    assert not [r for r in kube.requests if r.method == "PATCH"]
    flush_notifications(ctl)
    alerts = [m for m in slack.messages if "ALERT" in m["text"]]
    assert len(alerts) == 1, alerts  # notified once, when the condition began
    assert "failover.alert" in kinds(events) and "failover.detected" not in kinds(events)
    ctl.shutdown()


def test_standby_takes_over_mid_failover_and_finishes_it(kube, slack, tmp_path):
    clock, events = Clock(), tmp_path / "events.jsonl"
    health_a, health_b = Health(), Health()
    lock_a = KubernetesLeaseLock(
        kube.api_client(), NS, "failover", "ctl-a", lease_duration_s=5, clock=clock
    )
    lock_b = KubernetesLeaseLock(
        kube.api_client(), NS, "failover", "ctl-b", lease_duration_s=5, clock=clock
    )
    a = make(kube, slack, events, health_a, lock_a, clock)
    b = make(kube, slack, events, health_b, lock_b, clock)
    for _ in range(4):
        a.run_cycle()
        b.run_cycle()
        clock.t += 1
    assert a.is_leader and not b.is_leader
    kube.hold_unready.add((NS, "twinme-api-secondary"))  # the new replicas take their time
    health_a.ok["primary"] = health_b.ok["primary"] = False
    drive(a, clock, lambda: a.operation is not None and "scaled" in a.operation.done)
    assert b.run_cycle().startswith("standby")
    # a dies in the middle (no release, no more renewals); its worker stops with it
    a.stop_flag.set()  # its worker stops between polls; its loop runs no more cycles
    wait_for(lambda: a._future is not None and a._future.done(), 10, "a's worker to stop")
    state = lock_b.read_state()
    assert state["operation"]["status"] == "in_progress" and state["operation"]["done"] == [
        "traffic_switched",
        "scaled",
    ]
    clock.t += 6  # past the lease duration: b takes over and resumes
    sentence = b.run_cycle()
    assert "resumes failover primary->secondary" in sentence
    kube.hold_unready.clear()
    drive(b, clock, lambda: settled(b))
    assert b.operation.status == "completed" and b.operation.run_by == ["ctl-a", "ctl-b"]
    k = kinds(events)
    assert k.count("failover.detected") == 1 and k.count("failover.traffic_switched") == 1
    assert k.count("failover.completed") == 1 and "failover.resumed" in k
    leaders = [
        json.loads(x)["detail"]
        for x in events.read_text().splitlines()
        if '"controller.leader"' in x
    ]
    assert [(d["identity"], d["role"]) for d in leaders] == [
        ("ctl-a", "leader"),
        ("ctl-b", "leader"),
    ]
    assert ingress_service(kube) == "api-secondary"
    b.shutdown()
    a.shutdown()


def test_status_metrics_and_manual_failback_over_http(kube, slack, tmp_path):
    clock, health, events = Clock(), Health(), tmp_path / "events.jsonl"
    ctl = make(kube, slack, events, health, LocalLock("ctl-a"), clock)
    server = StatusServer(ctl, "127.0.0.1", 0).start()
    try:
        drive(ctl, clock, lambda: ctl.trackers["primary"].state == "up")
        r = httpx.post(server.url + "/failback")
        assert r.status_code == 409 and "already serving from home" in r.json()["error"]
        health.ok["primary"] = False
        drive(ctl, clock, lambda: settled(ctl))
        r = httpx.post(server.url + "/failback")
        assert r.status_code == 409 and "is down" in r.json()["error"]
        health.ok["primary"] = True
        drive(ctl, clock, lambda: ctl.trackers["primary"].state == "up")
        ctl.run_cycle()
        assert ctl.active == "secondary"  # failback is manual by default
        r = httpx.post(server.url + "/failback")
        assert r.status_code == 202
        drive(ctl, clock, lambda: ctl.operation.kind == "failback" and settled(ctl))
        assert ctl.active == "primary" and ingress_service(kube) == "api-primary"
        assert kinds(events)[-1] == "failback.completed"
        status = httpx.get(server.url + "/status").json()
        assert status["active_region"] == "primary" and status["leader"] is True
        assert (
            status["regions"]["primary"]["state"] == "up"
            and status["regions"]["primary"]["history"]
        )
        metrics = httpx.get(server.url + "/metrics").text
        assert (
            'gameday_failover_failovers_total{kind="failover",outcome="completed"} 1.0' in metrics
        )
        assert (
            'gameday_failover_failovers_total{kind="failback",outcome="completed"} 1.0' in metrics
        )
        assert 'gameday_failover_active_region{region="primary"} 1.0' in metrics
        assert "gameday_failover_leader 1.0" in metrics
        assert 'gameday_failover_last_step_seconds{step="ready"}' in metrics
    finally:
        server.stop()
        ctl.shutdown()


def test_auto_failback_after_sustained_health_and_cooldown(kube, slack, tmp_path):
    clock, health, events = Clock(), Health(), tmp_path / "events.jsonl"
    ctl = make(
        kube, slack, events, health, LocalLock("ctl-a"), clock,
        failback="auto", failback_healthy_s=10, cooldown_s=30,
    )  # fmt: skip
    drive(ctl, clock, lambda: ctl.trackers["primary"].state == "up")
    health.ok["primary"] = False
    drive(ctl, clock, lambda: settled(ctl))
    switched_at = ctl.last_switch_wall
    health.ok["primary"] = True
    sentences = drive(ctl, clock, lambda: ctl.operation.kind == "failback" and settled(ctl), 60)
    assert any("not failing back yet" in s for s in sentences)
    assert ctl.operation.started_wall - switched_at >= 30  # not before the cooldown
    assert ctl.trackers["primary"].healthy_for(ctl.operation.started_wall) >= 10
    assert ctl.active == "primary" and ingress_service(kube) == "api-primary"
    assert kinds(events)[-1] == "failback.completed"
    ctl.shutdown()

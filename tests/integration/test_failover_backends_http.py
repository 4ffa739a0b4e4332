"""Each HTTP backend against a faithful fake of its API, over real HTTP (no patching)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import SecretStr

from failover.backends.cloudflare import CloudflareDNSSwitch
from failover.backends.kube import DeploymentScaler, IngressSwitch
from failover.backends.lease_lock import KubernetesLeaseLock
from failover.backends.simple import FanoutNotifier, LogNotifier, SlackNotifier
from failover.errors import LeadershipLost, NotifierError, ScalerError, TrafficSwitchError
from tests.support.failover_support import wait_for
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.support.fakes.kube_apiserver import FakeKubeApiServer
from tests.support.fakes.slack import FakeSlackWebhook

NS = "twinme-prod"


# ---- Slack -------------------------------------------------------------------
@pytest.fixture
def slack():
    with FakeSlackWebhook() as fake:
        yield fake


def test_slack_delivers_text(slack):
    SlackNotifier(SecretStr(slack.webhook_url)).notify(
        "failing over to secondary", level="critical"
    )
    assert slack.messages == [{"text": ":rotating_light: failing over to secondary"}]


def test_slack_errors_are_notifier_errors_without_the_secret_url(slack):
    slack.revoked = True
    with pytest.raises(NotifierError) as err:
        SlackNotifier(SecretStr(slack.webhook_url)).notify("x")
    assert "403" in str(err.value) and "invalid_token" in str(err.value)
    assert slack.path not in str(err.value)
    slack.revoked = False
    slack.rate_limit_next = 1
    with pytest.raises(NotifierError) as err:
        SlackNotifier(SecretStr(slack.webhook_url)).notify("x")
    assert err.value.retryable


def test_slack_unreachable_does_not_leak_the_url_and_fanout_survives():
    url = "http://127.0.0.1:9/services/T1/B1/secret-token"  # port 9 (discard): nothing listens
    with pytest.raises(NotifierError) as err:
        SlackNotifier(SecretStr(url), timeout_s=0.5).notify("x")
    assert "secret-token" not in str(err.value)
    fan = FanoutNotifier([SlackNotifier(SecretStr(url), timeout_s=0.5), LogNotifier()])
    fan.notify("still delivered to the log")
    assert fan.failures == 1


# ---- Cloudflare -----------------------------------------------------------------
@contextmanager
def twinme_zone() -> Iterator[FakeCloudflare]:
    """The fake Cloudflare API holding the zone with the API's record and a bystander."""
    with FakeCloudflare(token="cf-token-123") as fake:
        fake.add_zone("zone1", "twinme.ai")
        fake.add_record("zone1", "api.twinme.ai", "A", "203.0.113.10")
        fake.add_record("zone1", "www.twinme.ai", "A", "203.0.113.99")
        yield fake


@pytest.fixture
def cloudflare():
    with twinme_zone() as fake:
        yield fake


def cf_switch(fake: FakeCloudflare, token: str = "cf-token-123") -> CloudflareDNSSwitch:
    return CloudflareDNSSwitch(
        api_base=fake.api_base, token=SecretStr(token), zone_id="zone1", record_name="api.twinme.ai",
        contents={"primary": "203.0.113.10", "secondary": "198.51.100.20"},
    )  # fmt: skip


def test_cloudflare_switch_updates_only_the_named_record(cloudflare):
    sw = cf_switch(cloudflare)
    assert sw.current() == "primary"
    sw.switch_to("secondary")
    assert cloudflare.record("api.twinme.ai")["content"] == "198.51.100.20"
    assert cloudflare.record("www.twinme.ai")["content"] == "203.0.113.99"
    assert sw.current() == "secondary"
    patches = [r for r in cloudflare.requests if r.method == "PATCH"]
    assert len(patches) == 1 and patches[0].json() == {"content": "198.51.100.20"}
    sw.switch_to("secondary")  # idempotent: no second write
    assert len([r for r in cloudflare.requests if r.method == "PATCH"]) == 1


def test_cloudflare_bad_token_is_a_switch_error(cloudflare):
    with pytest.raises(TrafficSwitchError) as err:
        cf_switch(cloudflare, token="wrong").switch_to("secondary")
    assert "403" in str(err.value) and "Authentication error" in str(err.value)
    assert not err.value.retryable
    assert "wrong" not in str(err.value)


def test_cloudflare_invalid_content_is_refused(cloudflare):
    sw = cf_switch(cloudflare)
    sw.contents["secondary"] = "not-an-ip"
    with pytest.raises(TrafficSwitchError, match="9005|IPv4"):
        sw.switch_to("secondary")


# ---- Kubernetes -------------------------------------------------------------------
INGRESS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {"name": "twinme-api"},
    "spec": {
        "rules": [
            {
                "host": "api.twinme.ai",
                "http": {
                    "paths": [
                        {"path": "/", "pathType": "Prefix",
                         "backend": {"service": {"name": "api-primary", "port": {"number": 80}}}},
                        {"path": "/ws", "pathType": "Prefix",
                         "backend": {"service": {"name": "api-primary", "port": {"number": 81}}}},
                    ]
                },
            }
        ]
    },
}  # fmt: skip


@contextmanager
def twinme_cluster(ready_delay_s: float) -> Iterator[FakeKubeApiServer]:
    """The fake API server holding both regions' Deployments (3 + 1 replicas) and the Ingress."""
    with FakeKubeApiServer(ready_delay_s=ready_delay_s) as fake:
        fake.add_deployment(NS, "twinme-api-primary", 3, {"app": "twinme-api", "region": "primary"})
        fake.add_deployment(
            NS, "twinme-api-secondary", 1, {"app": "twinme-api", "region": "secondary"}
        )
        fake.add_object("ingresses", NS, INGRESS)
        yield fake


@pytest.fixture
def kube():
    with twinme_cluster(ready_delay_s=0.2) as fake:
        yield fake


def test_ingress_switch_repoints_every_path(kube):
    sw = IngressSwitch(
        kube.api_client(),
        NS,
        "twinme-api",
        {"primary": "api-primary", "secondary": "api-secondary"},
    )
    assert sw.current() == "primary"
    sw.switch_to("secondary")
    paths = kube.get_object("ingresses", NS, "twinme-api")["spec"]["rules"][0]["http"]["paths"]
    assert [p["backend"]["service"]["name"] for p in paths] == ["api-secondary", "api-secondary"]
    assert [p["backend"]["service"]["port"]["number"] for p in paths] == [80, 81]
    assert sw.current() == "secondary"


def test_ingress_missing_is_a_switch_error(kube):
    sw = IngressSwitch(kube.api_client(), NS, "nope", {"primary": "a", "secondary": "b"})
    with pytest.raises(TrafficSwitchError, match="404"):
        sw.switch_to("secondary")


def test_deployment_scaler_scales_and_reads_readiness(kube):
    scaler = DeploymentScaler(
        kube.api_client(),
        NS,
        {"primary": "twinme-api-primary", "secondary": "twinme-api-secondary"},
    )
    scaler.scale("secondary", 5)
    assert kube.get_object("deployments", NS, "twinme-api-secondary")["spec"]["replicas"] == 5
    wait_for(lambda: scaler.ready_replicas("secondary") == 5, 10, "5 ready replicas")
    kube.hold_unready.add((NS, "twinme-api-secondary"))
    assert scaler.ready_replicas("secondary") == 0
    with pytest.raises(ScalerError, match="no Deployment"):
        scaler.scale("mars", 1)


def test_deployment_scaler_missing_deployment(kube):
    scaler = DeploymentScaler(kube.api_client(), NS, {"primary": "gone", "secondary": "gone2"})
    with pytest.raises(ScalerError, match="404"):
        scaler.ready_replicas("primary")


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_lease_lock_one_winner_handover_on_expiry_and_state_cas(kube):
    clock = Clock()
    a = KubernetesLeaseLock(
        kube.api_client(), NS, "failover", "ctl-a", lease_duration_s=10, clock=clock
    )
    b = KubernetesLeaseLock(
        kube.api_client(), NS, "failover", "ctl-b", lease_duration_s=10, clock=clock
    )
    assert a.try_acquire() is True
    assert b.try_acquire() is False and b.holder() == "ctl-a"
    a.write_state({"active": "secondary", "operation": {"id": "op1"}})
    assert b.read_state() == {"active": "secondary", "operation": {"id": "op1"}}
    with pytest.raises(LeadershipLost):
        b.write_state({"active": "primary"})
    clock.t = 5.0
    assert a.try_acquire() is True  # renewal changes resourceVersion
    assert b.try_acquire() is False
    clock.t = 14.0  # b saw the last renewal at 5: 9 s < 10 s
    assert b.try_acquire() is False
    clock.t = 15.5  # a died: no renewal for more than the lease duration
    assert b.try_acquire() is True
    assert b.read_state()["operation"] == {"id": "op1"}  # state handed over
    lease = kube.get_object("leases", NS, "failover")
    assert lease["spec"]["holderIdentity"] == "ctl-b" and lease["spec"]["leaseTransitions"] == 1
    assert a.try_acquire() is False  # the old leader finds out
    with pytest.raises(LeadershipLost):
        a.write_state({"active": "primary"})


def test_lease_lock_concurrent_takeover_only_one_wins(kube):
    clock = Clock()
    old = KubernetesLeaseLock(
        kube.api_client(), NS, "race", "ctl-old", lease_duration_s=2, clock=clock
    )
    contenders = [
        KubernetesLeaseLock(
            kube.api_client(), NS, "race", f"ctl-{i}", lease_duration_s=2, clock=clock
        )
        for i in range(4)
    ]
    assert old.try_acquire()
    assert not any(
        lk.try_acquire() for lk in contenders
    )  # each observes the current resourceVersion
    clock.t = 10.0  # the holder died: every contender sees the lease expired and races to CAS it
    barrier = threading.Barrier(len(contenders))
    results: dict[str, bool] = {}

    def contend(lk: KubernetesLeaseLock) -> None:
        barrier.wait()
        results[lk.identity] = lk.try_acquire()

    threads = [threading.Thread(target=contend, args=(lk,)) for lk in contenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    winners = [who for who, won in results.items() if won]
    assert len(results) == 4 and len(winners) == 1, results
    assert kube.get_object("leases", NS, "race")["spec"]["holderIdentity"] == winners[0]


def test_lease_lock_release_lets_standby_take_over_at_once(kube):
    clock = Clock()
    a = KubernetesLeaseLock(kube.api_client(), NS, "rel", "ctl-a", lease_duration_s=30, clock=clock)
    b = KubernetesLeaseLock(kube.api_client(), NS, "rel", "ctl-b", lease_duration_s=30, clock=clock)
    assert a.try_acquire() and not b.try_acquire()
    a.release()
    assert b.try_acquire()


def test_kube_client_from_a_kubeconfig_with_a_context_allowlist(kube, tmp_path):
    from bedrock.errors import InputError
    from failover.backends.kube import make_api_client
    from failover.config import KubernetesConfig

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        f"""
apiVersion: v1
kind: Config
clusters: [{{name: fake, cluster: {{server: "{kube.url}"}}}}]
users: [{{name: me, user: {{token: t0ken}}}}]
contexts: [{{name: fake-ctx, context: {{cluster: fake, user: me}}}}]
current-context: fake-ctx
"""
    )
    with pytest.raises(InputError, match="'fake-ctx' is not in allowed_contexts"):
        make_api_client(KubernetesConfig(kubeconfig=kubeconfig, allowed_contexts=["kind-test"]))
    api = make_api_client(KubernetesConfig(kubeconfig=kubeconfig, allowed_contexts=["fake-ctx"]))
    sw = IngressSwitch(
        api, NS, "twinme-api", {"primary": "api-primary", "secondary": "api-secondary"}
    )
    assert sw.current() == "primary"
    assert kube.requests[-1].headers["authorization"] == "Bearer t0ken"
    with pytest.raises(InputError, match="cannot load the cluster config"):
        make_api_client(KubernetesConfig(kubeconfig=tmp_path / "absent"))


def test_daemon_logging_never_shows_the_webhook_url(slack, caplog):
    from failover.cli import configure_logging

    configure_logging("DEBUG")
    with caplog.at_level(logging.DEBUG):
        SlackNotifier(SecretStr(slack.webhook_url)).notify("hello")
    assert slack.messages and slack.path not in caplog.text

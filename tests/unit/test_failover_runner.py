"""The failover steps: retries of retryable errors, fail-fast on permanent ones, retry policy.

Traffic goes through the Cloudflare fake over real HTTP; the scaler is a local
stack object implementing the StackControl protocol (what stack/ will provide).
"""

from __future__ import annotations

import json
import time

import pytest
from pydantic import SecretStr

from bedrock.errors import InputError
from failover.backends.cloudflare import CloudflareDNSSwitch
from failover.backends.lease_lock import LocalLock
from failover.backends.simple import LocalStackScaler, LogNotifier, load_stack_control
from failover.config import Policy
from failover.controller import Controller
from failover.decision import Policy as DecisionPolicy
from failover.decision import View, decide
from failover.errors import ScalerError
from failover.events import EventLog
from failover.runner import FailoverRunner, Operation
from tests.support.fakes.cloudflare import FakeCloudflare
from tests.unit.test_failover_controller import Clock, Health, config, drive, settled


class Stack:
    """A stand-in local stack: replicas become ready `ready_after` polls after a scale."""

    def __init__(self, ready_after: int = 2) -> None:
        self.wanted: dict[str, int] = {"primary": 3, "secondary": 1}
        self.polls = 0
        self.ready_after = ready_after
        self.broken = False
        self.scale_calls = 0

    def scale(self, region: str, replicas: int) -> None:
        self.scale_calls += 1
        if self.broken:
            raise RuntimeError("supervisord unreachable")
        self.wanted[region] = replicas
        self.polls = 0

    def ready_replicas(self, region: str) -> int:
        self.polls += 1
        return self.wanted[region] if self.polls > self.ready_after else 0


@pytest.fixture
def cloudflare():
    with FakeCloudflare(token="tok") as fake:
        fake.add_zone("z", "twinme.ai")
        fake.add_record("z", "api.twinme.ai", "A", "192.0.2.1")
        yield fake


def switch(fake: FakeCloudflare, token: str = "tok") -> CloudflareDNSSwitch:
    return CloudflareDNSSwitch(
        api_base=fake.api_base, token=SecretStr(token), zone_id="z", record_name="api.twinme.ai",
        contents={"primary": "192.0.2.1", "secondary": "192.0.2.2"},
    )  # fmt: skip


def runner(traffic, scaler, events, persisted, **policy) -> FailoverRunner:
    return FailoverRunner(
        identity="ctl-a", traffic=traffic, load_balancer=None, scaler=scaler, notifier=LogNotifier(),
        events=events, target_replicas={"primary": 3, "secondary": 4},
        policy=Policy(step_retry_s=0.01, ready_poll_s=0.01, ready_timeout_s=5, **policy),
        persist=lambda op: persisted.append(json.dumps(op.to_dict())), should_stop=lambda: False,
    )  # fmt: skip


def test_rate_limited_dns_update_is_retried(cloudflare, tmp_path):
    cloudflare.fail_next = [429, 500]
    persisted: list[str] = []
    events = EventLog(tmp_path / "events.jsonl")
    stack = Stack()
    op = runner(switch(cloudflare), LocalStackScaler(stack), events, persisted).run(
        Operation("failover", "primary", "secondary", time.time())
    )
    assert op.status == "completed", op.error
    assert cloudflare.record("api.twinme.ai")["content"] == "192.0.2.2"
    assert len([r for r in cloudflare.requests if r.method == "PATCH"]) == 3
    assert stack.wanted == {"primary": 3, "secondary": 4}
    assert [e["kind"] for e in events.recent] == [
        "failover.traffic_switched", "failover.scaled", "failover.ready", "failover.lb_updated",
        "failover.completed",
    ]  # fmt: skip
    assert json.loads(persisted[-1])["status"] == "completed"


def test_permanent_error_fails_at_once(cloudflare, tmp_path):
    events = EventLog(None)
    op = runner(switch(cloudflare, token="bad"), None, events, []).run(
        Operation("failover", "primary", "secondary", time.time())
    )
    assert op.status == "failed" and op.error.startswith("traffic_switched:")
    assert len([r for r in cloudflare.requests if r.method == "GET"]) == 1  # 403 is not retried
    assert events.recent[-1]["kind"] == "failover.failed"
    assert events.recent[-1]["detail"]["traffic_on_target"] is False


def test_resume_skips_done_steps(cloudflare, tmp_path):
    events = EventLog(None)
    stack = Stack(ready_after=0)
    stack.wanted["secondary"] = 4  # the previous leader scaled before dying
    op = Operation(
        "failover", "primary", "secondary", time.time(), done=["traffic_switched", "scaled"]
    )
    op = runner(switch(cloudflare), LocalStackScaler(stack), events, []).run(op)
    assert op.status == "completed"
    assert not [r for r in cloudflare.requests if r.method == "PATCH"]  # not redone
    assert stack.scale_calls == 0  # scaling was done by the previous leader: not redone
    assert [e["kind"] for e in events.recent][0] == "failover.ready"


def test_local_scaler_maps_errors_and_loads_from_a_factory():
    stack = Stack()
    stack.broken = True
    with pytest.raises(ScalerError, match="supervisord unreachable"):
        LocalStackScaler(stack).scale("secondary", 2)
    built = load_stack_control("tests.unit.test_failover_runner:Stack", {"ready_after": 5})
    assert isinstance(built, Stack) and built.ready_after == 5
    with pytest.raises(InputError, match="scaler.factory"):
        load_stack_control("tests.unit.test_failover_runner:Nope", {})


def test_failed_attempt_is_retried_after_the_retry_delay_not_the_cooldown():
    v = dict(active="primary", home="primary", regions={"primary": "down", "secondary": "up"})
    policy = DecisionPolicy(cooldown_s=300, retry_failed_after_s=10)
    assert decide(View(now=105, last_failed_at=100, policy=policy, **v)).action == "none"
    assert decide(View(now=111, last_failed_at=100, policy=policy, **v)).action == "failover"


def test_controller_retries_a_failed_switch_and_cooldown_starts_at_the_switch(cloudflare, tmp_path):
    clock, health = Clock(), Health()
    cfg = config(retry_failed_after_s=5, cooldown_s=60)
    ctl = Controller(
        cfg, lock=LocalLock("ctl-a"), traffic=switch(cloudflare), load_balancer=None, scaler=None,
        notifier=LogNotifier(), events=EventLog(tmp_path / "events.jsonl"), probe_all=health, clock=clock,
    )  # fmt: skip
    drive(ctl, clock, lambda: ctl.trackers["primary"].state == "up")
    cloudflare.fail_next = [500, 500, 500]  # all three attempts of the first try fail
    health.ok["primary"] = False
    drive(ctl, clock, lambda: settled(ctl))
    assert ctl.operation.status == "failed" and ctl.last_switch_wall is None
    first_failed = clock.t
    drive(ctl, clock, lambda: settled(ctl) and ctl.operation.status == "completed")
    assert clock.t - first_failed >= 5
    assert ctl.active == "secondary" and ctl.last_switch_wall is not None
    ctl.shutdown()

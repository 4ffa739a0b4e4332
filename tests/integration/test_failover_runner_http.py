"""The failover steps: retries of retryable errors, fail-fast on permanent ones, retry policy.

Traffic goes through the Cloudflare fake over real HTTP; the scaler is a local
stack object implementing the StackControl protocol (what stack/ will provide).
"""

from __future__ import annotations

import json
import time

import pytest

from failover.backends.lease_lock import LocalLock
from failover.backends.simple import LocalStackScaler, LogNotifier
from failover.config import Policy
from failover.controller import Controller
from failover.events import EventLog
from failover.runner import FailoverRunner, Operation
from tests.integration.test_failover_backends_http import cf_switch, twinme_zone
from tests.integration.test_failover_controller import Clock, Health, config, drive, settled
from tests.support.failover_support import ScriptedStack as Stack


@pytest.fixture
def cloudflare():
    with twinme_zone() as fake:
        yield fake


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
    op = runner(cf_switch(cloudflare), LocalStackScaler(stack), events, persisted).run(
        Operation("failover", "primary", "secondary", time.time())
    )
    assert op.status == "completed", op.error
    assert cloudflare.record("api.twinme.ai")["content"] == "198.51.100.20"
    assert len([r for r in cloudflare.requests if r.method == "PATCH"]) == 3
    assert stack.wanted == {"primary": 3, "secondary": 4}
    assert [e["kind"] for e in events.recent] == [
        "failover.traffic_switched", "failover.scaled", "failover.ready", "failover.lb_updated",
        "failover.completed",
    ]  # fmt: skip
    assert json.loads(persisted[-1])["status"] == "completed"


def test_permanent_error_fails_at_once(cloudflare, tmp_path):
    events = EventLog(None)
    op = runner(cf_switch(cloudflare, token="bad"), None, events, []).run(
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
    op = runner(cf_switch(cloudflare), LocalStackScaler(stack), events, []).run(op)
    assert op.status == "completed"
    assert not [r for r in cloudflare.requests if r.method == "PATCH"]  # not redone
    assert stack.scale_calls == 0  # scaling was done by the previous leader: not redone
    assert [e["kind"] for e in events.recent][0] == "failover.ready"


def test_controller_retries_a_failed_switch_and_cooldown_starts_at_the_switch(cloudflare, tmp_path):
    clock, health = Clock(), Health()
    cfg = config(retry_failed_after_s=5, cooldown_s=60)
    ctl = Controller(
        cfg, lock=LocalLock("ctl-a"), traffic=cf_switch(cloudflare), load_balancer=None, scaler=None,
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

"""The failover steps without a server: the local scaler's errors and factory, and the retry
delay of a failed attempt. The steps against the Cloudflare fake over real HTTP (retries of
retryable errors, fail-fast on permanent ones, resume) are in
tests/integration/test_failover_runner_http.py.
"""

from __future__ import annotations

import pytest

from bedrock.errors import InputError
from failover.backends.simple import LocalStackScaler, load_stack_control
from failover.decision import Policy as DecisionPolicy
from failover.decision import View, decide
from failover.errors import ScalerError
from tests.support.failover_support import ScriptedStack


def test_local_scaler_maps_errors_and_loads_from_a_factory():
    stack = ScriptedStack()
    stack.broken = True
    with pytest.raises(ScalerError, match="supervisord unreachable"):
        LocalStackScaler(stack).scale("secondary", 2)
    built = load_stack_control("tests.support.failover_support:ScriptedStack", {"ready_after": 5})
    assert isinstance(built, ScriptedStack) and built.ready_after == 5
    with pytest.raises(InputError, match="scaler.factory"):
        load_stack_control("tests.support.failover_support:Nope", {})


def test_failed_attempt_is_retried_after_the_retry_delay_not_the_cooldown():
    v = dict(active="primary", home="primary", regions={"primary": "down", "secondary": "up"})
    policy = DecisionPolicy(cooldown_s=300, retry_failed_after_s=10)
    assert decide(View(now=105, last_failed_at=100, policy=policy, **v)).action == "none"
    assert decide(View(now=111, last_failed_at=100, policy=policy, **v)).action == "failover"

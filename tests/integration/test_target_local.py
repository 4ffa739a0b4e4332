"""The local Target on the shared real stack: each fault proven by before/after evidence,
journaled while it is in place, and gone (with its journal entry) once undone."""

from __future__ import annotations

import pytest

from gameday.targets import faults
from gameday.targets.local import LocalTarget
from stack import netfault
from stack.control import Stack
from stack.heal import restore_all

from .conftest import wait_until


@pytest.fixture(autouse=True)
def at_home_first(healthy_stack: Stack) -> None:
    """Each test starts from the stack at home with an empty fault journal, whatever an earlier
    test on the shared stack left (a DB leader moved by a kill, a journaled kill it restarted)."""
    restore_all(healthy_stack)
    wait_until(lambda: LocalTarget(healthy_stack).at_home().ok, 120, "stack at home before the test")


def _kinds(stack: Stack) -> list[str]:
    return sorted(e.fault.kind for e in stack.journal.entries())


def test_observations_at_home(healthy_stack: Stack) -> None:
    target = LocalTarget(healthy_stack)
    wait_until(lambda: target.at_home().ok, 60, "stack at home")
    desired = healthy_stack.replicas("primary")
    assert target.replicas("primary") == (desired, desired)
    assert target.desired_replicas("primary") == desired
    assert target.edge_regions() == ["primary"]
    assert target.db_leader() == "pg-primary"
    assert target.handles.state_dir == healthy_stack.root


def test_latency_injected_journaled_and_undone(healthy_stack: Stack) -> None:
    target = LocalTarget(healthy_stack)
    injected = target.inject(faults.Latency("primary", 300))
    try:
        assert healthy_stack.latency_ms("primary") == 300
        assert _kinds(healthy_stack) == ["latency"]
    finally:
        target.undo(injected)
    assert healthy_stack.latency_ms("primary") == 0
    assert _kinds(healthy_stack) == []


def test_pod_kill_restarts_like_a_pod_and_undo_clears_the_journal(healthy_stack: Stack) -> None:
    target = LocalTarget(healthy_stack)
    before = healthy_stack.pid("api-primary-0")
    injected = target.inject(faults.PodKill("primary", 1))
    assert injected.hit == ["kill api-primary-0"]
    assert before in injected.detail["kill api-primary-0"]
    assert _kinds(healthy_stack) == ["kill"]
    wait_until(
        lambda: healthy_stack.pid("api-primary-0") not in (0, before), 30, "replica restarted"
    )
    target.undo(injected)
    assert _kinds(healthy_stack) == []
    wait_until(lambda: target.at_home().ok, 60, "replicas ready again")


def test_scale_region_and_back(healthy_stack: Stack) -> None:
    target = LocalTarget(healthy_stack)
    initial = healthy_stack.replicas("secondary")
    injected = target.inject(faults.ScaleRegion("secondary", initial + 1))
    assert injected.replicas_before == initial
    wait_until(lambda: target.replicas("secondary") == (initial + 1,) * 2, 60, "scaled up")
    target.undo(injected)
    assert target.desired_replicas("secondary") == initial
    assert _kinds(healthy_stack) == []


def test_partition_undo_removes_only_its_own_rules(healthy_stack: Stack) -> None:
    target = LocalTarget(healthy_stack)
    masters = healthy_stack.redis_masters()
    victim, other = masters[0], masters[1]
    injected = target.inject(faults.CachePartition("primary", addr=victim))
    bystander = target.inject(faults.CachePartition("primary", addr=other, loss_pct=1))
    try:
        hosts = {a for a, _, _ in netfault.rules_by_address()}
        assert {victim.split(":")[0], other.split(":")[0]} <= hosts
        assert _kinds(healthy_stack) == ["nftables", "nftables"]
        target.undo(injected)
        hosts = {a for a, _, _ in netfault.rules_by_address()}
        assert victim.split(":")[0] not in hosts, "the partition is gone"
        assert other.split(":")[0] in hosts, "another fault's rule stays"
        assert _kinds(healthy_stack) == ["nftables"]
    finally:
        target.undo(bystander)
    assert not healthy_stack.addresses() & {a for a, _, _ in netfault.rules_by_address()}
    assert _kinds(healthy_stack) == []
    wait_until(
        lambda: len([n for n in healthy_stack.redis_nodes() if not n["failed"]]) == 6,
        30,
        "every Redis node answers again",
    )


def test_restore_is_the_safety_net(healthy_stack: Stack) -> None:
    target = LocalTarget(healthy_stack)
    target.inject(faults.Latency("secondary", 200))
    done = target.restore(print)
    assert done["journal_cleared"] == [] and done["moved"] == {}
    assert healthy_stack.latency_ms("secondary") == 0
    assert target.at_home().ok

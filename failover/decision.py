"""What the controller should do this cycle: a pure function of what it knows.

`decide(view)` takes region states (already filtered by hysteresis), the active
region, the time of the last switch, any action in progress, a pending manual
failback request and the policy, and returns one `Decision` with a one-sentence
explanation. No I/O, no clock reads: tests drive it with scripted sequences.

Rules:
- an action in progress: do nothing else;
- active down, a standby up, cooldown over: fail over to the first up standby
  (regions in priority order);
- active down, no standby up: no switch, a loud alert (`all_down`);
- active down, standby up but inside the cooldown: no switch, alert (flap guard);
  the cooldown runs from the last time traffic actually moved;
- an attempt that failed before moving traffic is retried after `retry_failed_after_s`;
- active up and not home: fail back when asked (manual, home must be up) or, in
  `auto` mode, after home has been up `failback_healthy_s` and the cooldown is over;
- active `unknown` (too few probes yet): wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from failover.health import RegionState

Action = Literal["none", "failover", "failback", "alert"]


@dataclass(frozen=True)
class Policy:
    cooldown_s: float = 120.0
    failback: Literal["manual", "auto"] = "manual"
    failback_healthy_s: float = 60.0
    retry_failed_after_s: float = 10.0


@dataclass(frozen=True)
class View:
    now: float
    active: str
    home: str
    regions: dict[str, RegionState]  # in priority order
    healthy_for_s: dict[str, float] = field(default_factory=dict)
    last_switch_at: float | None = None  # when traffic last moved
    last_failed_at: float | None = None  # when an operation failed before moving traffic
    in_progress: str | None = None  # e.g. "failover primary->secondary (step scaled)"
    failback_requested: bool = False
    policy: Policy = Policy()


@dataclass(frozen=True)
class Decision:
    action: Action
    sentence: str
    source: str | None = None
    target: str | None = None
    alert: str | None = None  # a stable key; the daemon notifies when it changes


def _cooldown_left(view: View) -> float:
    if view.last_switch_at is None:
        return 0.0
    return max(0.0, view.policy.cooldown_s - (view.now - view.last_switch_at))


def decide(view: View) -> Decision:
    if view.in_progress:
        return Decision("none", f"{view.in_progress} in progress; waiting for it")
    active_state = view.regions.get(view.active, "unknown")
    if active_state == "down":
        return _active_down(view)
    if active_state == "unknown":
        return Decision("none", f"active region {view.active} has too few probes yet; waiting")
    if view.active != view.home:
        return _away_from_home(view)
    return _at_home(view)


def _standbys(view: View) -> tuple[list[str], list[str]]:
    """The regions other than the active one, and those of them that are up (priority order)."""
    others = [r for r in view.regions if r != view.active]
    return others, [r for r in others if view.regions[r] == "up"]


def _active_down(view: View) -> Decision:
    """Fail over to the first up standby unless none is up, the cooldown or a retry wait holds."""
    others, up_others = _standbys(view)
    if not up_others:
        states = ", ".join(f"{r} {view.regions[r]}" for r in others)
        return Decision(
            "alert",
            f"active region {view.active} is down and no standby is healthy ({states}): not switching",
            alert="all_down",
        )
    left = _cooldown_left(view)
    if left > 0:
        return Decision(
            "alert",
            f"active region {view.active} is down and {up_others[0]} is up, but the last switch was "
            f"{view.policy.cooldown_s - left:.0f} s ago (cooldown {view.policy.cooldown_s:.0f} s): not switching",
            alert="cooldown_blocks_failover",
        )
    if view.last_failed_at is not None:
        wait = view.policy.retry_failed_after_s - (view.now - view.last_failed_at)
        if wait > 0:
            return Decision(
                "none",
                f"active region {view.active} is down; the last failover attempt failed "
                f"{view.now - view.last_failed_at:.0f} s ago: retrying in {wait:.0f} s",
            )
    return Decision(
        "failover",
        f"active region {view.active} is down and {up_others[0]} is up: failing over to {up_others[0]}",
        source=view.active,
        target=up_others[0],
    )


def _away_from_home(view: View) -> Decision:
    """The active region is up but is not home: fail back when asked or (auto) when due."""
    home_state = view.regions.get(view.home, "unknown")
    if home_state != "up":
        return Decision(
            "none", f"serving from {view.active} (up); home {view.home} is {home_state}"
        )
    if view.failback_requested:
        return Decision(
            "failback",
            f"failback requested and home region {view.home} is up: failing back from {view.active}",
            source=view.active,
            target=view.home,
        )
    if view.policy.failback == "auto":
        return _auto_failback(view)
    return Decision(
        "none",
        f"serving from {view.active}; home {view.home} is up: failback is manual "
        "(gameday failover failback)",
    )


def _auto_failback(view: View) -> Decision:
    """Fail back once home has been up `failback_healthy_s` and the cooldown is over."""
    healthy = view.healthy_for_s.get(view.home, 0.0)
    left = _cooldown_left(view)
    if healthy >= view.policy.failback_healthy_s and left == 0:
        return Decision(
            "failback",
            f"home region {view.home} has been up {healthy:.0f} s and the cooldown is over: "
            f"failing back from {view.active}",
            source=view.active,
            target=view.home,
        )
    return Decision(
        "none",
        f"serving from {view.active}; home {view.home} up {healthy:.0f} s of "
        f"{view.policy.failback_healthy_s:.0f} s, cooldown {left:.0f} s left: not failing back yet",
    )


def _at_home(view: View) -> Decision:
    """Home is active and up: alert when no standby could take over."""
    others, up_others = _standbys(view)
    standby_note = ", ".join(f"{r} {view.regions[r]}" for r in others)
    if others and not up_others:
        return Decision(
            "alert",
            f"active region {view.active} is up but no standby is healthy ({standby_note}): no failover target",
            alert="no_standby",
        )
    return Decision("none", f"active region {view.active} is up ({standby_note}): nothing to do")

"""The decision logic under scripted health sequences and a controlled clock (pure, no I/O).

A script gives, per region, one character per 1 s cycle: `o` a good probe, `x` a
failed one. The harness feeds the hysteresis trackers and `decide()`, and applies
every failover/failback instantly, as the controller would after its steps.
"""

from __future__ import annotations

from failover.decision import Decision, Policy, View, decide
from failover.health import ProbeResult, RegionTracker, judge

DEFAULT = Policy()


def simulate(
    script: dict[str, str],
    policy: Policy = DEFAULT,
    down_after: int = 3,
    up_after: int = 3,
    home: str = "primary",
    failback_at: set[int] | None = None,
) -> tuple[list[tuple[int, str, str, str]], list[Decision]]:
    trackers = {r: RegionTracker(down_after, up_after) for r in script}
    active, last_switch = home, None
    switches: list[tuple[int, str, str, str]] = []
    decisions: list[Decision] = []
    cycles = len(next(iter(script.values())))
    for i in range(cycles):
        now = float(i)
        for region, seq in script.items():
            trackers[region].observe(
                ProbeResult(seq[i] == "o", "ok" if seq[i] == "o" else "timeout", 0.001), now
            )
        d = decide(
            View(
                now=now,
                active=active,
                home=home,
                regions={r: t.state for r, t in trackers.items()},
                healthy_for_s={r: t.healthy_for(now) for r, t in trackers.items()},
                last_switch_at=last_switch,
                failback_requested=i in (failback_at or set()),
                policy=policy,
            )
        )
        decisions.append(d)
        if d.action in ("failover", "failback"):
            assert d.source == active
            switches.append((i, d.action, d.source, d.target or ""))
            active, last_switch = d.target or active, now
    return switches, decisions


def test_blip_shorter_than_down_after_never_fails_over():
    script = {"primary": "oooxxoooxxooooo", "secondary": "ooooooooooooooo"}
    switches, decisions = simulate(script)
    assert switches == []
    assert all(d.action == "none" for d in decisions[3:])


def test_sustained_failure_fails_over_after_exactly_down_after_probes():
    script = {"primary": "oooxxxxxxx", "secondary": "oooooooooo"}
    switches, decisions = simulate(script)
    assert switches == [
        (5, "failover", "primary", "secondary")
    ]  # 3rd failed probe (cycles 3, 4, 5)
    assert "failing over to secondary" in decisions[5].sentence


def test_flapping_region_gives_at_most_one_switch_per_cooldown():
    # primary flaps for 99 s: down 4 probes, up 4 probes; auto failback after 3 s healthy
    script = {"primary": "ooo" + "xxxxoooo" * 12, "secondary": "o" * 99}
    unguarded, _ = simulate(script, Policy(cooldown_s=0.0, failback="auto", failback_healthy_s=3.0))
    assert len(unguarded) >= 20  # the control: without a cooldown it would flap every few seconds
    switches, _ = simulate(script, Policy(cooldown_s=30.0, failback="auto", failback_healthy_s=3.0))
    times = [t for t, *_ in switches]
    assert len(times) >= 2, switches
    assert all(b - a >= 30 for a, b in zip(times, times[1:], strict=False)), switches


def test_cooldown_blocks_a_second_switch_and_alerts():
    # failover at 5; then secondary dies at 10 while primary is back: inside the 60 s cooldown
    script = {"primary": "oooxxxoooooooooooooo", "secondary": "ooooooooooxxxxxxxxxx"}
    switches, decisions = simulate(script, Policy(cooldown_s=60.0))
    assert switches == [(5, "failover", "primary", "secondary")]
    assert decisions[-1].action == "alert" and decisions[-1].alert == "cooldown_blocks_failover"


def test_both_regions_down_no_switch_and_a_loud_alert():
    script = {"primary": "oooxxxxxx", "secondary": "oooxxxxxx"}
    switches, decisions = simulate(script)
    assert switches == []
    assert decisions[-1].action == "alert" and decisions[-1].alert == "all_down"
    assert "not switching" in decisions[-1].sentence


def test_standby_unhealthy_no_switch():
    script = {"primary": "oooxxxxxx", "secondary": "xxxxxxxxx"}
    switches, decisions = simulate(script)
    assert switches == []
    assert decisions[-1].alert == "all_down"


def test_standby_not_yet_known_is_not_a_target():
    # the secondary has answered only twice (< up_after): it is "unknown", not "up"
    script = {"primary": "xxxxx", "secondary": "xxxoo"}
    switches, _ = simulate(script)
    assert switches == []


def test_manual_failback_only_when_requested():
    script = {"primary": "oooxxx" + "o" * 20, "secondary": "o" * 26}
    switches, decisions = simulate(script)
    assert switches == [(5, "failover", "primary", "secondary")]
    assert "failback is manual" in decisions[-1].sentence
    switches, _ = simulate(script, failback_at={20})
    assert switches[-1] == (20, "failback", "secondary", "primary")


def test_manual_failback_request_ignored_while_home_is_down():
    script = {"primary": "oooxxxxxxxxxx", "secondary": "o" * 13}
    switches, _ = simulate(script, failback_at={10})
    assert switches == [(5, "failover", "primary", "secondary")]


def test_auto_failback_after_sustained_health_and_cooldown():
    policy = Policy(cooldown_s=20.0, failback="auto", failback_healthy_s=10.0)
    script = {"primary": "oooxxx" + "o" * 30, "secondary": "o" * 36}
    switches, _ = simulate(script, policy)
    # failover at 5; primary up again at 8 (3 good probes); healthy 10 s at 18; cooldown ends at 25
    assert switches == [
        (5, "failover", "primary", "secondary"),
        (25, "failback", "secondary", "primary"),
    ]


def test_auto_failback_waits_for_a_continuous_healthy_period():
    policy = Policy(cooldown_s=0.0, failback="auto", failback_healthy_s=10.0)
    # home comes back at 8, blips down at 14..16 (3 fails: down), back up at 19, healthy 10 s at 29
    script = {"primary": "oooxxx" + "ooooooooxxx" + "o" * 16, "secondary": "o" * 33}
    switches, _ = simulate(script, policy)
    assert switches == [
        (5, "failover", "primary", "secondary"),
        (29, "failback", "secondary", "primary"),
    ]


def test_in_progress_means_no_new_decision():
    d = decide(View(now=0, active="primary", home="primary", regions={"primary": "down", "secondary": "up"},
                    in_progress="failover primary->secondary (step ready)"))  # fmt: skip
    assert d.action == "none" and "in progress" in d.sentence


def test_tracker_hysteresis_counts():
    t = RegionTracker(down_after=2, up_after=3)
    ok, bad = ProbeResult(True, "ok", 0.0), ProbeResult(False, "timeout", None)
    assert [t.observe(p, float(i)) for i, p in enumerate([ok, ok, ok, bad, ok, bad, bad, ok, ok, ok])] == [
        "unknown", "unknown", "up", "up", "up", "up", "down", "down", "down", "up",
    ]  # fmt: skip
    assert t.up_since == 9.0 and t.healthy_for(12.0) == 3.0


def test_health_rule_follows_the_seed():
    assert judge(200, {"status": "healthy", "database": "connected", "redis": "connected"}) == (
        True,
        "ok",
    )
    assert judge(200, {"status": "healthy", "database": "disconnected", "redis": "connected"}) == (
        False,
        "database=disconnected",
    )
    assert judge(200, {"status": "healthy", "database": "connected"}) == (False, "redis=None")
    assert judge(503, {"status": "unhealthy"}) == (False, "http_503")
    assert judge(200, ["not", "a", "dict"]) == (False, "bad_body")

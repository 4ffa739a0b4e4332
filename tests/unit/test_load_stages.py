"""Scenario stages under each profile: users and spawn rate at given times, rate curves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bedrock.errors import InputError
from loadtests.stages import (
    PROFILES,
    SEED_SCENARIOS,
    Stage,
    peak_users,
    rate_segments,
    scaled_stages,
    tick_at,
    total_duration_s,
    user_curve,
)

ROOT = Path(__file__).resolve().parents[2]

# (scenario, profile, run_time_s) -> (users, spawn_rate) or None: the table the shapes follow.
EXPECTED_TICKS = [
    # full = the seed exactly: 10/50/100 users x 60 s, 500 x 30 s, 1000 x 120 s, 200 x 3600 s
    ("progressive", "full", 0, (10, 10)),
    ("progressive", "full", 59.9, (10, 10)),
    ("progressive", "full", 60, (50, 50)),
    ("progressive", "full", 179.9, (100, 100)),
    ("progressive", "full", 180, None),
    ("spike", "full", 0, (500, 500)),
    ("spike", "full", 29.9, (500, 500)),
    ("spike", "full", 30, None),
    ("stress", "full", 119, (1000, 100)),
    ("stress", "full", 120, None),
    ("endurance", "full", 3599, (200, 20)),
    ("endurance", "full", 3600, None),
    # ci: 5 % of the users; 10 s steps, 15 s spike, 30 s stress, 60 s endurance
    ("progressive", "ci", 0, (1, 3)),
    ("progressive", "ci", 10, (3, 15)),
    ("progressive", "ci", 25, (5, 30)),
    ("progressive", "ci", 30, None),
    ("spike", "ci", 14.9, (25, 50)),
    ("spike", "ci", 15, None),
    ("stress", "ci", 29.9, (50, 20)),
    ("stress", "ci", 30, None),
    ("endurance", "ci", 59.9, (10, 60)),
    ("endurance", "ci", 60, None),
    # nightly: 20 % of the users
    ("progressive", "nightly", 30, (10, 20)),
    ("progressive", "nightly", 89, (20, 40)),
    ("spike", "nightly", 10, (100, 100)),
    ("stress", "nightly", 59, (200, 40)),
    ("endurance", "nightly", 359, (40, 40)),
    ("endurance", "nightly", 360, None),
    # gameday: half the users, the seed's durations except a 15 min endurance
    ("progressive", "gameday", 130, (50, 50)),
    ("spike", "gameday", 0, (250, 250)),
    ("stress", "gameday", 100, (500, 50)),
    ("endurance", "gameday", 899, (100, 40)),
    ("endurance", "gameday", 900, None),
]


@pytest.mark.parametrize(("scenario", "profile", "t", "expected"), EXPECTED_TICKS)
def test_tick_gives_users_and_spawn_rate(scenario, profile, t, expected) -> None:
    got = tick_at(scaled_stages(scenario, profile), t)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert got[0] == expected[0]
        assert got[1] == pytest.approx(expected[1])


def test_full_profile_is_the_seed_exactly() -> None:
    for name, seed in SEED_SCENARIOS.items():
        assert scaled_stages(name, "full") == seed


def test_ci_profile_runs_the_whole_set_in_a_couple_of_minutes_on_two_cores() -> None:
    seeds = ("progressive", "spike", "stress", "endurance")
    total = sum(total_duration_s(scaled_stages(s, "ci")) for s in seeds)
    assert 90 <= total <= 180
    assert max(peak_users(scaled_stages(s, "ci")) for s in seeds) <= 50


def test_time_scale_shrinks_durations_and_keeps_ramp_share() -> None:
    base = scaled_stages("stress", "ci")
    fast = scaled_stages("stress", "ci", time_scale=0.1)
    assert total_duration_s(fast) == pytest.approx(total_duration_s(base) * 0.1)
    ramp_share = [s.users / s.spawn_rate / s.duration_s for s in (base[0], fast[0])]
    assert ramp_share[0] == pytest.approx(ramp_share[1])


def test_unknown_scenario_or_profile_is_input_error() -> None:
    with pytest.raises(InputError, match="scenario 'nope'"):
        scaled_stages("nope", "ci")
    with pytest.raises(InputError, match="profile 'weekly'"):
        scaled_stages("spike", "weekly")
    assert set(PROFILES) == {"ci", "nightly", "gameday", "full"}


def test_user_curve_follows_spawn_rate_ramps() -> None:
    stages = (Stage(10, 10, 5), Stage(10, 2, 4))
    assert user_curve(stages) == [(0.0, 0.0), (2.0, 10.0), (10.0, 10.0), (12.0, 2.0), (20.0, 2.0)]


def test_rate_segments_scale_the_user_curve_to_the_peak_rate() -> None:
    segs = rate_segments((Stage(10, 10, 5), Stage(10, 20, 10)), 1000.0)
    # 0-2 s ramp 0 -> 500, hold 500, 10-11 s ramp 500 -> 1000, hold 1000
    assert [(s.t0, s.t1, s.rate0, s.rate1) for s in segs] == [
        (0.0, 2.0, 0.0, 500.0),
        (2.0, 10.0, 500.0, 500.0),
        (10.0, 11.0, 500.0, 1000.0),
        (11.0, 20.0, 1000.0, 1000.0),
    ]


def test_locust_shape_class_ticks_per_profile(tmp_path: Path) -> None:
    """The real LoadTestShape, in its own process (gevent monkey-patching stays out of pytest)."""
    code = (
        "import locust, json\n"
        "from loadtests.shapes import ScenarioShape\n"
        "class S(ScenarioShape):\n    pass\n"
        "s = S()\n"
        "out = []\n"
        "for t in (0, 11, 29.9, 30):\n"
        "    s.get_run_time = lambda t=t: t\n"
        "    out.append(s.tick())\n"
        "print(json.dumps(out))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GAMEDAY_SCENARIO": "progressive",
        "GAMEDAY_PROFILE": "ci",
        "GAMEDAY_RUN_DIR": str(tmp_path),
    }
    res = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    ticks = json.loads(res.stdout.strip().splitlines()[-1])
    # users + the ledger user; spawn rates from the ci table
    assert ticks == [[2, 3.0], [4, 15.0], [6, 30.0], None]
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["detail"]["users"] for e in events] == [1, 3, 5]
    assert all(e["kind"] == "load.step" for e in events)

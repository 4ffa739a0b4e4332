"""The seed's load scenarios as data, the profiles that scale them, and their rate curves.

Pure code (no locust, no I/O): the Locust shapes in `loadtests.shapes` and the open-model
scheduler both read these tables, and the unit tests check them directly.

The seed ("Validation") runs k6 with 10/50/100 VUs for 60 s, 500 VUs for 30 s (spike),
1,000 VUs for 120 s (stress) and 200 VUs for 3,600 s (endurance). Profile `full` is exactly
those users and durations. Two readings of the seed are ours:
- the seed starts its three progressive k6 runs in the background at once (160 VUs for 60 s);
  we read the intent, a progression, as three 60 s steps 10 -> 50 -> 100;
- k6 starts every VU at once; a stage's `spawn_rate` says how fast Locust gets there (the
  ramp happens inside the stage, so durations stay the seed's).
Each closed-model user paces itself at `USER_RATE_RPS` requests per second, so 1,000 users
offer the seed's 5,000 req/s target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bedrock.errors import InputError

USER_RATE_RPS = 5.0  # one closed-model user's offered rate (constant pacing 0.2 s)


@dataclass(frozen=True)
class Stage:
    """Hold `users` (reached at `spawn_rate` users/s) until this stage's `duration_s` has passed."""

    duration_s: float
    users: int
    spawn_rate: float


SEED_SCENARIOS: dict[str, tuple[Stage, ...]] = {
    "progressive": (Stage(60, 10, 10), Stage(60, 50, 50), Stage(60, 100, 100)),
    "spike": (Stage(30, 500, 500),),
    "stress": (Stage(120, 1000, 100),),
    "endurance": (Stage(3600, 200, 20),),
    # Not in the seed: a flat load, for capacity runs and the open model's constant rate.
    "constant": (Stage(60, 100, 100),),
}


@dataclass(frozen=True)
class Profile:
    """Scales a scenario: users by `users_factor`, each scenario's durations by its factor."""

    name: str
    users_factor: float
    duration_factor: dict[str, float]


PROFILES: dict[str, Profile] = {
    # The whole set in ~2.5 min (30 + 15 + 30 + 60 s), <= 50 users: fits a 2-core machine.
    "ci": Profile(
        "ci",
        0.05,
        {"progressive": 1 / 6, "spike": 0.5, "stress": 0.25, "endurance": 1 / 60, "constant": 0.5},
    ),
    "nightly": Profile(
        "nightly",
        0.2,
        {"progressive": 0.5, "spike": 1.0, "stress": 0.5, "endurance": 0.1, "constant": 1.0},
    ),
    "gameday": Profile(
        "gameday",
        0.5,
        {"progressive": 1.0, "spike": 1.0, "stress": 1.0, "endurance": 0.25, "constant": 1.0},
    ),
    "full": Profile(
        "full",
        1.0,
        {"progressive": 1.0, "spike": 1.0, "stress": 1.0, "endurance": 1.0, "constant": 1.0},
    ),
}


def scaled_stages(scenario: str, profile: str, time_scale: float = 1.0) -> tuple[Stage, ...]:
    """The scenario's stages under a profile; `time_scale` shrinks durations further (tests).

    Ramps keep their share of the stage: spawn rates scale with users / durations.
    """
    if scenario not in SEED_SCENARIOS:
        raise InputError(f"scenario {scenario!r}: unknown (known: {', '.join(SEED_SCENARIOS)})")
    if profile not in PROFILES:
        raise InputError(f"profile {profile!r}: unknown (known: {', '.join(PROFILES)})")
    if not time_scale > 0:
        raise InputError(f"time_scale {time_scale!r}: must be > 0")
    prof = PROFILES[profile]
    dur_f = prof.duration_factor[scenario] * time_scale
    out = []
    for st in SEED_SCENARIOS[scenario]:
        users = max(1, math.ceil(st.users * prof.users_factor - 1e-9))
        spawn = st.spawn_rate * prof.users_factor / dur_f
        out.append(Stage(st.duration_s * dur_f, users, max(spawn, 0.1)))
    return tuple(out)


def held(stages: Sequence[Stage], hold_s: float) -> tuple[Stage, ...]:
    """The stages with the last one held `hold_s` seconds longer (the orchestration stops the
    load itself when a run's phases end; the hold keeps the final level until then, however
    long a fault's rollback took, without stretching the scenario's shape)."""
    if hold_s < 0:
        raise InputError(f"hold_s {hold_s!r}: must be >= 0")
    if not stages or hold_s == 0:
        return tuple(stages)
    last = stages[-1]
    return (*stages[:-1], Stage(last.duration_s + hold_s, last.users, last.spawn_rate))


def total_duration_s(stages: Sequence[Stage]) -> float:
    return sum(s.duration_s for s in stages)


def peak_users(stages: Sequence[Stage]) -> int:
    return max(s.users for s in stages)


def tick_at(stages: Sequence[Stage], run_time_s: float) -> tuple[int, float] | None:
    """What a LoadTestShape returns at `run_time_s`: (users, spawn_rate), or None when done."""
    end = 0.0
    for st in stages:
        end += st.duration_s
        if run_time_s < end:
            return st.users, st.spawn_rate
    return None


@dataclass(frozen=True)
class RateSegment:
    """Arrival rate going linearly from `rate0` to `rate1` req/s between `t0` and `t1` (s)."""

    t0: float
    t1: float
    rate0: float
    rate1: float

    def integral(self, upto: float) -> float:
        """Expected arrivals in this segment from t0 to min(upto, t1)."""
        x = min(max(upto, self.t0), self.t1) - self.t0
        span = self.t1 - self.t0
        slope = (self.rate1 - self.rate0) / span if span > 0 else 0.0
        return self.rate0 * x + 0.5 * slope * x * x


def user_curve(stages: Sequence[Stage]) -> list[tuple[float, float]]:
    """Breakpoints (t, users) of the user count over time, ramps included (piecewise linear)."""
    points = [(0.0, 0.0)]
    t, users = 0.0, 0.0
    for st in stages:
        end = t + st.duration_s
        ramp = abs(st.users - users) / st.spawn_rate
        if ramp > 0:
            t_reach = min(end, t + ramp)
            frac = (t_reach - t) / ramp
            users = users + (st.users - users) * frac
            points.append((t_reach, users))
        if end > points[-1][0]:
            points.append((end, users))
        t = end
    return points


def rate_segments(stages: Sequence[Stage], peak_rate_rps: float) -> list[RateSegment]:
    """Open-model rate curve: the scenario's user curve scaled so its peak is `peak_rate_rps`.

    A constant scenario gives a constant rate; ramps give ramping rates.
    """
    peak = peak_users(stages)
    pts = user_curve(stages)
    segs = []
    for (ta, ua), (tb, ub) in zip(pts, pts[1:], strict=False):
        if tb > ta:
            segs.append(RateSegment(ta, tb, peak_rate_rps * ua / peak, peak_rate_rps * ub / peak))
    return segs


def constant_rate(rate_rps: float, duration_s: float, ramp_s: float = 0.0) -> list[RateSegment]:
    """A constant arrival rate after an optional linear ramp from zero."""
    segs = []
    if ramp_s > 0:
        segs.append(RateSegment(0.0, ramp_s, 0.0, rate_rps))
    segs.append(RateSegment(ramp_s, ramp_s + duration_s, rate_rps, rate_rps))
    return segs

"""One load run's settings, carried from the runner to the Locust process in environment variables.

Locust runs in its own process (`locust -f loadtests/scenarios/<name>.py`), so the runner
passes what it decided through `GAMEDAY_*` variables; a user running plain `locust -f` gets the
defaults below. `from_env` validates every variable and reports all problems at once, naming
the variable (ConfigError, exit 2).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from bedrock.errors import EXIT_BAD_INPUT, ConfigError
from bedrock.names import NAME_PATTERN
from loadtests.stages import PROFILES, SEED_SCENARIOS, USER_RATE_RPS, Stage, held, scaled_stages


@dataclass(frozen=True)
class LoadSettings:
    scenario: str = "progressive"
    profile: str = "ci"
    run_dir: str = ""  # empty: runs/<UTC>-<scenario> under the current directory
    time_scale: float = 1.0  # extra duration factor (tests shrink runs with it)
    hold_s: float = 0.0  # the last stage is held this much longer (the caller stops the load)
    open_rate_rps: float | None = None  # open model: peak arrival rate; None = closed model
    open_lanes: int = 1  # open model: how many lanes (one per worker process) share the rate
    max_in_flight: int = 1000  # open model: per lane, beyond it arrivals are `late`
    max_lag_s: float = 1.0  # open model: dispatcher lag beyond which arrivals are `late`
    ledger_rate_rps: float = 10.0  # write-ledger user's rate; 0 disables it
    client: str = ""  # ledger client id; empty: derived from the run folder's name
    request_timeout_s: float = 5.0
    connect_timeout_s: float = 2.0
    mix: str = (
        "api"  # "api": the reference API's traffic mix; "static": GET /static only (capacity)
    )
    user_pacing_s: float = 1.0 / USER_RATE_RPS  # closed model: one request per user every this

    def resolved_run_dir(self) -> str:
        if self.run_dir:
            return self.run_dir
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        return os.path.join("runs", f"{stamp}-{self.scenario}")

    def stages(self) -> tuple[Stage, ...]:
        """The scenario's stages under the profile, time scale and hold."""
        return held(scaled_stages(self.scenario, self.profile, self.time_scale), self.hold_s)

    @property
    def ledger_users(self) -> int:
        return 1 if self.ledger_rate_rps > 0 else 0

    def to_env(self) -> dict[str, str]:
        env = {
            "GAMEDAY_SCENARIO": self.scenario,
            "GAMEDAY_PROFILE": self.profile,
            "GAMEDAY_RUN_DIR": self.run_dir,
            "GAMEDAY_TIME_SCALE": repr(self.time_scale),
            "GAMEDAY_HOLD_S": repr(self.hold_s),
            "GAMEDAY_OPEN_LANES": str(self.open_lanes),
            "GAMEDAY_MAX_IN_FLIGHT": str(self.max_in_flight),
            "GAMEDAY_MAX_LAG_S": repr(self.max_lag_s),
            "GAMEDAY_LEDGER_RATE": repr(self.ledger_rate_rps),
            "GAMEDAY_CLIENT": self.client,
            "GAMEDAY_REQUEST_TIMEOUT_S": repr(self.request_timeout_s),
            "GAMEDAY_CONNECT_TIMEOUT_S": repr(self.connect_timeout_s),
            "GAMEDAY_MIX": self.mix,
            "GAMEDAY_USER_PACING_S": repr(self.user_pacing_s),
        }
        if self.open_rate_rps is not None:
            env["GAMEDAY_OPEN_RATE"] = repr(self.open_rate_rps)
        return env


# variable -> (attribute, lowest, highest, lowest excluded); every bound is finite
_FLOATS: dict[str, tuple[str, float, float, bool]] = {
    "GAMEDAY_TIME_SCALE": ("time_scale", 0.0, 1000.0, True),
    "GAMEDAY_HOLD_S": ("hold_s", 0.0, 86_400.0, False),
    "GAMEDAY_OPEN_RATE": ("open_rate_rps", 0.0, 1_000_000.0, True),
    "GAMEDAY_MAX_LAG_S": ("max_lag_s", 0.0, 3600.0, True),
    "GAMEDAY_LEDGER_RATE": ("ledger_rate_rps", 0.0, 10_000.0, False),
    "GAMEDAY_REQUEST_TIMEOUT_S": ("request_timeout_s", 0.0, 600.0, True),
    "GAMEDAY_CONNECT_TIMEOUT_S": ("connect_timeout_s", 0.0, 600.0, True),
    "GAMEDAY_USER_PACING_S": ("user_pacing_s", 0.0, 3600.0, False),
}
_INTS: dict[str, tuple[str, int, int]] = {
    "GAMEDAY_OPEN_LANES": ("open_lanes", 1, 256),
    "GAMEDAY_MAX_IN_FLIGHT": ("max_in_flight", 1, 1_000_000),
}
_STRS = {
    "GAMEDAY_SCENARIO": "scenario",
    "GAMEDAY_PROFILE": "profile",
    "GAMEDAY_RUN_DIR": "run_dir",
    "GAMEDAY_CLIENT": "client",
    "GAMEDAY_MIX": "mix",
}


def _float(key: str, text: str, low: float, high: float, low_open: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{key}={text!r}: not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{key}={text!r}: not a finite number")
    if value < low or (low_open and value == low) or value > high:
        lowest = f"> {low:g}" if low_open else f">= {low:g}"
        raise ValueError(f"{key}={text!r}: must be {lowest} and <= {high:g}")
    return value


def _int(key: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{key}={text!r}: not an integer") from None
    if not low <= value <= high:
        raise ValueError(f"{key}={text!r}: must be >= {low} and <= {high}")
    return value


def _strings(env: Mapping[str, str], problems: list[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for key, attr in _STRS.items():
        if env.get(key):
            values[attr] = env[key]
    run_dir = str(values.get("run_dir", ""))
    if "\0" in run_dir or len(run_dir) > 1024:
        problems.append("GAMEDAY_RUN_DIR: not a usable folder name")
    client = str(values.get("client", ""))
    if client and not NAME_PATTERN.fullmatch(client):
        problems.append(f"GAMEDAY_CLIENT={client!r}: must match {NAME_PATTERN.pattern}")
    return values


def from_env(environ: Mapping[str, str] | None = None) -> LoadSettings:
    """Settings from GAMEDAY_* variables; ConfigError listing every bad one."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    values = _strings(env, problems)
    for key, (attr, low, high, low_open) in _FLOATS.items():
        if env.get(key):
            try:
                values[attr] = _float(key, env[key], low, high, low_open)
            except ValueError as exc:
                problems.append(str(exc))
    for key, (attr, ilow, ihigh) in _INTS.items():
        if env.get(key):
            try:
                values[attr] = _int(key, env[key], ilow, ihigh)
            except ValueError as exc:
                problems.append(str(exc))
    settings = LoadSettings(**values)  # type: ignore[arg-type]
    if settings.scenario not in SEED_SCENARIOS:
        problems.append(f"GAMEDAY_SCENARIO={settings.scenario!r}: one of {sorted(SEED_SCENARIOS)}")
    if settings.profile not in PROFILES:
        problems.append(f"GAMEDAY_PROFILE={settings.profile!r}: one of {sorted(PROFILES)}")
    if settings.mix not in ("api", "static"):
        problems.append(f"GAMEDAY_MIX={settings.mix!r}: one of ['api', 'static']")
    if problems:
        raise ConfigError("environment", problems)
    return settings


def from_env_or_exit(environ: Mapping[str, str] | None = None) -> LoadSettings:
    """`from_env` for a locustfile: bad variables end the process with one line and exit 2,
    before Locust starts any user (a traceback from inside Locust's import would hide it)."""
    try:
        return from_env(environ)
    except ConfigError as exc:
        print(f"loadtests: bad GAMEDAY_* settings: {'; '.join(exc.problems)}", file=sys.stderr)
        sys.stderr.flush()
        raise SystemExit(EXIT_BAD_INPUT) from None

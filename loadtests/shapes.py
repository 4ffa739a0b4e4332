"""Locust LoadTestShape for every scenario, driven by `loadtests.stages` data. Import only in Locust.

Closed model: the shape follows the scenario's scaled stages (users, spawn rate), plus the
ledger user. Open model: the rate curve is driven by the lanes themselves, so the shape only
keeps 2 users per lane (Locust balances users across workers, so every worker gets at least
one lane user; extras idle) plus the ledger user, for the curve's duration and a short tail.
Each change of step appends a `load.step` event (users, offered req/s) to events.jsonl.
"""

from __future__ import annotations

# isort: off
import locust  # noqa: F401  first: gevent monkey-patching (DESIGN.md)

# isort: on

from typing import ClassVar

from locust import LoadTestShape

from bedrock.runfolder.events import append_event
from loadtests.settings import from_env_or_exit
from loadtests.stages import USER_RATE_RPS, peak_users, tick_at, total_duration_s
from loadtests.users import RUN_DIR

OPEN_TAIL_S = 2.0  # lets lanes finish their last arrivals and report before the stop


class ScenarioShape(LoadTestShape):
    abstract: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.settings = from_env_or_exit()
        self.stages = self.settings.stages()
        self.duration_s = total_duration_s(self.stages)
        self._last: tuple[int, float] | None = None

    def tick(self) -> tuple[int, float] | None:
        run_time: float = self.get_run_time()  # type: ignore[no-untyped-call]
        step = tick_at(self.stages, run_time)
        if self.settings.open_rate_rps is not None:
            if run_time >= self.duration_s + OPEN_TAIL_S:
                return None
            if step is not None:
                rate = self.settings.open_rate_rps * step[0] / peak_users(self.stages)
                self._announce(step[0], rate)
            lanes_users = 2 * self.settings.open_lanes + self.settings.ledger_users
            return lanes_users, float(lanes_users)
        if step is None:
            return None
        users, spawn = step
        self._announce(users, users * USER_RATE_RPS)
        return users + self.settings.ledger_users, spawn

    def _announce(self, users: int, rate: float) -> None:
        if self._last == (users, rate):
            return
        self._last = (users, rate)
        detail = {
            "users": users,
            "rate": rate,
            "scenario": self.settings.scenario,
            "profile": self.settings.profile,
            "model": "open" if self.settings.open_rate_rps is not None else "closed",
        }
        append_event(RUN_DIR, "load.step", "loadtests", detail)

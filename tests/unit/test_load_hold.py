"""The load's last stage is held so every phase is loaded to its planned end, whatever the
rollback took (the orchestration stops the load itself); the hold travels to Locust in env."""

from __future__ import annotations

import pytest

from bedrock.errors import ConfigError, InputError
from loadtests.runner import build_settings, planned_duration_s
from loadtests.settings import from_env
from loadtests.stages import Stage, held, scaled_stages, tick_at


def test_held_extends_only_the_last_stage() -> None:
    stages = scaled_stages("progressive", "ci")
    longer = held(stages, 180.0)
    assert longer[:-1] == stages[:-1]
    assert longer[-1] == Stage(
        stages[-1].duration_s + 180.0, stages[-1].users, stages[-1].spawn_rate
    )
    end = sum(s.duration_s for s in stages)
    assert tick_at(stages, end + 1.0) is None  # without the hold the load stops here
    assert tick_at(longer, end + 179.0) == (stages[-1].users, stages[-1].spawn_rate)
    assert held(stages, 0.0) == stages
    with pytest.raises(InputError):
        held(stages, -1.0)


def test_hold_reaches_the_planned_duration_and_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = build_settings("constant", "ci", tmp_path, time_scale=2.0)
    settings = build_settings("constant", "ci", tmp_path, time_scale=2.0, hold_s=180.0)
    assert planned_duration_s(settings) == planned_duration_s(base) + 180.0
    assert from_env(settings.to_env()).stages() == settings.stages()
    with pytest.raises(ConfigError, match="GAMEDAY_HOLD_S"):
        from_env({**settings.to_env(), "GAMEDAY_HOLD_S": "-5"})

"""What actions and probes share: opening the stack from the experiment's configuration."""

from __future__ import annotations

import os
from typing import Any

from chaoslib.exceptions import ActivityFailed

from bedrock.errors import GamedayError
from stack.control import Stack


def open_stack(configuration: dict[str, Any] | None) -> Stack:
    state_dir = (configuration or {}).get("state_dir") or os.environ.get("GAMEDAY_STATE_DIR")
    try:
        return Stack.open(state_dir)
    except GamedayError as exc:
        raise ActivityFailed(str(exc)) from None


def run_dir(configuration: dict[str, Any] | None) -> str | None:
    return (configuration or {}).get("run_dir") or os.environ.get("GAMEDAY_RUN_DIR") or None

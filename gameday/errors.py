"""Compatibility re-export: the error tree lives in `bedrock.errors` (layer 0)."""

from bedrock.errors import (
    EXIT_BAD_INPUT,
    EXIT_INCONCLUSIVE,
    EXIT_OK,
    EXIT_SLO_FAILED,
    ActionError,
    ConfigError,
    GamedayError,
    Inconclusive,
    InputError,
    ReadinessTimeout,
    SetupError,
)

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INCONCLUSIVE",
    "EXIT_OK",
    "EXIT_SLO_FAILED",
    "ActionError",
    "ConfigError",
    "GamedayError",
    "Inconclusive",
    "InputError",
    "ReadinessTimeout",
    "SetupError",
]

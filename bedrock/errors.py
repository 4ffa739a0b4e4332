"""The project's exceptions, one tree; only the command line turns them into exit codes.

GamedayError                  base of everything we raise on purpose
├── InputError                bad input: a file, key or argument is wrong   -> exit 2
│   └── ConfigError           a config/topology/spec file failed validation -> exit 2
├── SetupError                the stack or a tool could not be brought up  -> exit 3
│   └── ReadinessTimeout      a component did not become ready in time     -> exit 3
├── Inconclusive              not enough data to decide                    -> exit 3
└── ActionError               an action against the stack failed (retryable when .retryable)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_SLO_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INCONCLUSIVE = 3


class GamedayError(Exception):
    """Base of the project's errors."""

    exit_code = EXIT_INCONCLUSIVE


class InputError(GamedayError):
    """The user gave us something we cannot use."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(InputError):
    """A configuration file failed validation; `problems` lists every one found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


class SetupError(GamedayError):
    """Something the run needs could not be set up."""

    exit_code = EXIT_INCONCLUSIVE


class ReadinessTimeout(SetupError):
    """A component did not become ready before its deadline."""


class Inconclusive(GamedayError):
    """Not enough evidence to decide."""

    exit_code = EXIT_INCONCLUSIVE


class ActionError(GamedayError):
    """An action against the stack failed."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable

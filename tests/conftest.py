"""Shared test helpers: run the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gameday", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


@pytest.fixture
def cli():
    return run_cli


UNIT = REPO / "tests" / "unit"
INTEGRATION = REPO / "tests" / "integration"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The directory decides: everything under tests/integration is `integration` (real
    servers); a test under tests/unit must not claim to need them, nor may a test live
    outside the two (tests/support holds no tests)."""
    misplaced = []
    for item in items:
        path = Path(str(item.path))
        if path.is_relative_to(INTEGRATION):
            item.add_marker(pytest.mark.integration)
        elif path.is_relative_to(UNIT):
            if item.get_closest_marker("integration") or item.get_closest_marker("destructive"):
                misplaced.append(f"{item.nodeid}: marked integration/destructive under tests/unit")
        else:
            misplaced.append(f"{item.nodeid}: tests live in tests/unit or tests/integration")
    if misplaced:
        raise pytest.UsageError("misplaced tests:\n  " + "\n  ".join(misplaced))

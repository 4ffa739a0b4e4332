"""One real local stack shared by the integration tests of a session.

Tests that break something restore it before they end, so the next test finds a
healthy stack. The stack is torn down at the end of the session even when a
test failed; its logs are copied first to `$GAMEDAY_TEST_LOGS` (default: a folder under
the system's temporary directory), never into the checkout.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from stack.control import Stack
from stack.topology import DEFAULT_TOPOLOGY, load_topology
from stack.up import bring_up, tear_down
from tests.support.test_logs import log_keep_folder
from tests.support.waiting import wait_for

from .browser import browser  # noqa: F401 - the browser tests' fixture (headless chromium)

CI_TOPOLOGY = DEFAULT_TOPOLOGY.parent / "topology-ci.yaml"
# A developer running the integration tests beside another stack on the same machine
# points this at a copy of topology-ci.yaml on other loopback ranges.
SHARED_TOPOLOGY = Path(os.environ.get("GAMEDAY_TEST_TOPOLOGY", CI_TOPOLOGY))
LOG_KEEP = log_keep_folder()


def wait_until(
    cond: Callable[[], object], deadline_s: float, what: str, interval_s: float = 0.1
) -> object:
    """tests/support/waiting.py's `wait_for`, polling every 0.1 s (a whole stack recovering)."""
    return wait_for(cond, deadline_s, what, interval_s=interval_s)


def get(url: str, timeout: float = 1.0) -> httpx.Response:
    return httpx.get(url, timeout=timeout)


@pytest.fixture(scope="session")
def stack_dir() -> Iterator[Path]:
    # Not under pytest's tmp (mode 0700): PostgreSQL runs as the postgres user.
    path = Path(tempfile.mkdtemp(prefix="gameday-it-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def topology():
    return load_topology(SHARED_TOPOLOGY)


@pytest.fixture(scope="session")
def stack(topology, stack_dir: Path) -> Iterator[Stack]:
    state = stack_dir / "state"
    try:
        bring_up(topology.topology, topology.source, state, deadline_s=180)
        yield Stack.open(state)
    finally:
        if (state / "logs").exists():
            shutil.copytree(state / "logs", LOG_KEEP / "stack", dirs_exist_ok=True)
        tear_down(topology.topology, state)


@pytest.fixture
def healthy_stack(stack: Stack) -> Stack:
    """The shared stack, checked healthy through the edge before the test starts."""
    wait_until(lambda: get(f"{stack.entry_url}/health").status_code == 200, 60, "edge healthy")
    return stack

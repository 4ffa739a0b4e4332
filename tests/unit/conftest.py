"""tests/unit starts no server: tests/support/no_servers.py is armed around every phase
(setup, call, teardown) of every test here, in this process and in each Python process a
test starts; a test that listens on a socket or starts a server program fails, naming it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from tests.support import no_servers

# No exceptions: the Kubernetes tests that serve fakes over HTTP live in tests/integration.
TEMPORARY_EXCEPTIONS: frozenset[str] = frozenset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _guarded(item))


def _guarded(item: pytest.Item) -> Generator[None, None, None]:
    if Path(str(item.path)).name in TEMPORARY_EXCEPTIONS:
        return (yield)
    no_servers.install()
    fd, report = tempfile.mkstemp(prefix="gameday-unit-servers-", suffix=".txt")
    os.close(fd)
    saved = {k: os.environ.get(k) for k in (no_servers.REPORT_ENV, "PYTHONPATH")}
    os.environ[no_servers.REPORT_ENV] = report
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(no_servers.SITE_DIR), *filter(None, [saved["PYTHONPATH"]])]
    )
    no_servers.Armed.report = report
    try:
        result = yield
    finally:
        no_servers.Armed.report = None
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        found = Path(report).read_text(encoding="utf-8")
        os.unlink(report)
    if found:
        pytest.fail(f"{item.nodeid} starts a server (tests/unit may not):\n{found}", pytrace=False)
    return result

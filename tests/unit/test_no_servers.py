"""The unit suite's guard (tests/support/no_servers.py) refuses servers, here and in children.

Each check points the guard at a report file of its own for a moment, so the refusal it
provokes does not fail the test through tests/unit/conftest.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import no_servers


@contextmanager
def own_report(path: Path) -> Iterator[Path]:
    outer = no_servers.Armed.report
    no_servers.Armed.report = str(path)
    try:
        yield path
    finally:
        no_servers.Armed.report = outer


def test_server_programs_are_told_from_clients() -> None:
    assert no_servers.server_command(["/usr/bin/etcd", "--name", "x"]) == "etcd"
    assert no_servers.server_command(["/usr/lib/postgresql/15/bin/postgres", "-D", "d"])
    assert no_servers.server_command([sys.executable, "-m", "http.server", "0"])
    assert no_servers.server_command([sys.executable, "-m", "supervisor.supervisord", "-c", "c"])
    assert no_servers.server_command(["locust", "-f", "x.py", "--headless"]) is None
    assert no_servers.server_command([sys.executable, "-m", "gameday", "validate-topology"]) is None
    assert no_servers.server_command(["actionlint", "ci.yml"]) is None


def test_listening_in_the_test_process_is_refused_and_reported(tmp_path: Path) -> None:
    with own_report(tmp_path / "report.txt") as report, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # binding alone (a port probe) is allowed
        with pytest.raises(PermissionError, match="tests/unit starts no server: listens on"):
            sock.listen()
    assert "listens on ('127.0.0.1'" in report.read_text()


def test_starting_a_server_program_is_refused_before_it_runs(tmp_path: Path) -> None:
    refused = pytest.raises(PermissionError, match="starts the server etcd")
    with own_report(tmp_path / "report.txt") as report, refused:
        subprocess.run(["etcd", "--version"], capture_output=True, timeout=30)
    assert "starts the server etcd" in report.read_text()


def test_a_python_child_is_guarded_too(tmp_path: Path) -> None:
    report = tmp_path / "child.txt"
    code = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()"
    env = {
        **os.environ,
        no_servers.REPORT_ENV: str(report),
        "PYTHONPATH": str(no_servers.SITE_DIR),
    }
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode != 0
    assert "PermissionError: tests/unit starts no server" in proc.stderr
    assert "listens on ('127.0.0.1'" in report.read_text()

"""The unit suite's guard: no test under tests/unit may start a server.

A server is a socket put in the listening state (`listen()`, which every Python
server does: http.server, socketserver, asyncio, aiohttp, uvicorn) or a known
server program started as a subprocess (PostgreSQL, Patroni, etcd, Redis, HAProxy,
Prometheus, supervisord; a headless Locust is a client, and a Python program that serves
is caught by its listen()). While a unit test runs, `tests/unit/conftest.py`
arms the guard in the test process, and every Python subprocess the test starts
arms it too (through `no_servers_site/sitecustomize.py` on PYTHONPATH): the attempt
is refused (PermissionError) and written down, and the test fails naming it.

Self-contained (the standard library only): the child processes load it by path.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Set while a unit test runs: the file each refused attempt is appended to.
REPORT_ENV = "GAMEDAY_UNIT_NO_SERVERS"
SITE_DIR = Path(__file__).resolve().parent / "no_servers_site"

SERVER_PROGRAMS = frozenset(
    {"postgres", "pg_ctl", "patroni", "etcd", "redis-server", "haproxy", "prometheus",
     "supervisord", "uvicorn", "gunicorn"}
)  # fmt: skip
SERVER_MODULES = frozenset({"supervisor.supervisord", "http.server", "uvicorn"})


def server_command(argv: list[str]) -> str | None:
    """What server `argv` starts (a program name or `python -m module`), or None."""
    if not argv:
        return None
    program = os.path.basename(str(argv[0]))
    if program in SERVER_PROGRAMS:
        return program
    for i, arg in enumerate(argv[:-1]):
        if arg == "-m" and str(argv[i + 1]) in SERVER_MODULES:
            return f"python -m {argv[i + 1]}"
    return None


def record(report: str, what: str) -> None:
    with open(report, "a", encoding="utf-8") as out:
        out.write(f"pid {os.getpid()} {' '.join(sys.argv)[:200]}: {what}\n")


class Armed:
    """The guard's switch: `report` is the file refusals go to, None when off."""

    report: str | None = None


def _refuse(what: str) -> None:
    report = Armed.report
    if report is None:
        return
    record(report, what)
    raise PermissionError(
        f"tests/unit starts no server: {what} (move the test to tests/integration)"
    )


def _popen_hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "subprocess.Popen" and Armed.report is not None:
        argv = args[1] if isinstance(args[1], list | tuple) else [args[1]]
        what = server_command([str(a) for a in argv])
        if what is not None:
            _refuse(f"starts the server {what}")


_original_listen: Callable[..., None] = socket.socket.listen
_installed = False


def _guarded_listen(self: socket.socket, *args: Any) -> None:
    if Armed.report is not None:
        try:
            where = self.getsockname()
        except OSError:
            where = "?"
        _refuse(f"listens on {where}")
    _original_listen(self, *args)


def install() -> None:
    """Hook listen() and subprocess starts once per process; `Armed.report` turns it on."""
    global _installed
    if _installed:
        return
    _installed = True
    socket.socket.listen = _guarded_listen  # type: ignore[method-assign]
    sys.addaudithook(_popen_hook)


def install_in_child() -> None:
    """Called by sitecustomize in every Python process a unit test starts."""
    report = os.environ.get(REPORT_ENV)
    if report:
        install()
        Armed.report = report

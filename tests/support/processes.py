"""The one process-controller base of the tests: a real child process, by PID.

Each process runs in its own session with its output in `log_path`; `stop()` escalates
`first` (TERM by default) -> KILL after a grace period, first waking a frozen tree with
SIGCONT; `send_tree` reaches descendants that left the process group (PostgreSQL backends
call setsid). Readiness is the subclass's: spawn, then `wait_for` a condition.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """PIDs of every live descendant of `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Process:
    """One child process in its own session, logging to `log_path`."""

    def __init__(
        self, argv: Sequence[str], log_path: Path, *, name: str = "", cwd: Path | None = None
    ) -> None:
        self.name = name or Path(argv[0]).name
        self.argv = list(argv)
        self.log_path = log_path
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def spawn(self) -> None:
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def send(self, sig: int) -> None:
        if self.popen is not None and self.alive():
            self.popen.send_signal(sig)

    def send_tree(self, sig: int) -> None:
        """Signal the process and all its descendants (PostgreSQL backends call setsid,
        so a process-group signal would miss them)."""
        if self.popen is not None and self.alive():
            for pid in [self.popen.pid, *descendants(self.popen.pid)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)

    def stop(self, first: int = signal.SIGTERM, grace_s: float = 10.0) -> int | None:
        """`first`, then SIGKILL after `grace_s`; returns the exit code."""
        if self.popen is None:
            return None
        if self.alive():
            self.send_tree(signal.SIGCONT)  # a frozen process cannot exit
            self.popen.send_signal(first)
            try:
                self.popen.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL now (a crash: no clean shutdown) and reap it."""
        if self.popen is not None and self.alive():
            self.popen.kill()
            self.popen.wait(5)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

"""A thin client for supervisord (the stack's process manager) over its unix socket.

supervisord is started from this venv (`python -m supervisor.supervisord`), talks
XML-RPC, and daemonizes itself, writing its pidfile. This module starts it,
queries and drives programs, and shuts it down with TERM -> KILL escalation.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from supervisor.xmlrpc import SupervisorTransport

from bedrock.errors import ActionError, SetupError

RUNNING_STATES = {"RUNNING", "STARTING"}


@dataclass(frozen=True)
class ProcState:
    name: str
    state: str
    pid: int
    description: str


class Supervisor:
    def __init__(self, conf: Path, sock: Path, pidfile: Path) -> None:
        self.conf = conf
        self.sock = sock
        self.pidfile = pidfile

    # -- lifecycle -------------------------------------------------------------
    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if psutil.pid_exists(pid) else None

    def running(self) -> bool:
        if self.pid() is None:
            return False
        try:
            self._rpc().supervisor.getState()
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            return False
        return True

    def start(self, deadline_s: float = 15.0) -> None:
        if self.running():
            self.reload_config()
            return
        subprocess.run(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.conf)],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.running():
                return
            time.sleep(0.05)
        raise SetupError(f"supervisord did not answer on {self.sock} within {deadline_s:.0f} s")

    def reload_config(self) -> None:
        """Pick up programs added to the config file since supervisord started."""
        added, changed, removed = self._rpc().supervisor.reloadConfig()[0]
        for name in removed:
            self._rpc().supervisor.stopProcessGroup(name)
            self._rpc().supervisor.removeProcessGroup(name)
        for name in changed:
            self._rpc().supervisor.stopProcessGroup(name)
            self._rpc().supervisor.removeProcessGroup(name)
            self._rpc().supervisor.addProcessGroup(name)
        for name in added:
            self._rpc().supervisor.addProcessGroup(name)

    def shutdown(self, deadline_s: float = 60.0) -> None:
        """Stop every program (each with its stopwaitsecs) and supervisord itself."""
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            self._rpc().supervisor.stopAllProcesses(True)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        end = time.monotonic() + deadline_s
        while time.monotonic() < end and psutil.pid_exists(pid):
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        else:
            if psutil.pid_exists(pid):
                os.kill(pid, signal.SIGKILL)

    # -- programs ---------------------------------------------------------------
    def _rpc(self) -> Any:
        transport = SupervisorTransport(None, None, f"unix://{self.sock}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def states(self) -> dict[str, ProcState]:
        infos = self._rpc().supervisor.getAllProcessInfo()
        return {
            i["name"]: ProcState(i["name"], i["statename"], int(i["pid"]), i["description"])
            for i in infos
        }

    def start_program(self, name: str, wait: bool = False) -> None:
        try:
            self._rpc().supervisor.startProcess(name, wait)
        except xmlrpc.client.Fault as exc:
            if "ALREADY_STARTED" not in exc.faultString:
                raise ActionError(f"cannot start {name}: {exc.faultString}") from None

    def stop_program(self, name: str, wait: bool = True) -> None:
        try:
            self._rpc().supervisor.stopProcess(name, wait)
        except xmlrpc.client.Fault as exc:
            if "NOT_RUNNING" not in exc.faultString:
                raise ActionError(f"cannot stop {name}: {exc.faultString}") from None

    def log_path(self, name: str) -> Path:
        return self.conf.parent / "logs" / f"{name}.log"


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (a PostgreSQL under Patroni, say)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def signal_tree(procs: list[psutil.Process], sig: int) -> list[int]:
    done = []
    for proc in procs:
        try:
            proc.send_signal(sig)
            done.append(proc.pid)
        except psutil.NoSuchProcess:
            pass
    return done

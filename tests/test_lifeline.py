"""Children die with the runner: a parent-death signal, and the process group for grandchildren."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

# The "runner": starts a child (and, through `spawn`, grandchildren), prints their pids, waits.
RUNNER = """
import json, signal, subprocess, sys, time
from pathlib import Path
from loadtests.lifeline import die_with_parent
from loadtests.runner import spawn
out = Path(sys.argv[1])
direct = subprocess.Popen(["sleep", "300"], start_new_session=True,
                          preexec_fn=die_with_parent(signal.SIGKILL))
# like Locust --processes: a child that forks workers into its own process group
load = spawn("load", ["sh", "-c", "sleep 300 & sleep 300 & wait"], {}, out / "load.log", 60)
time.sleep(0.5)
import psutil
pids = [direct.pid] + [p.pid for p in psutil.Process(load.pid).children(recursive=True)]
print(json.dumps(pids + [load.pid]), flush=True)
time.sleep(300)
"""


def _alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            continue
    return out


def test_children_and_grandchildren_end_when_the_runner_is_sigkilled(tmp_path: Path) -> None:
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert runner.stdout is not None
    pids = json.loads(runner.stdout.readline())
    try:
        assert len(pids) >= 4, pids  # sleep, timeout, sh, two sleeps
        assert _alive(pids) == pids
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
        end = time.monotonic() + 20  # TERM at once, KILL after loadtests.runner.KILL_AFTER_S
        while _alive(pids) and time.monotonic() < end:
            time.sleep(0.1)
        assert _alive(pids) == [], "orphans outlived the runner"
    finally:
        for pid in _alive(pids):
            psutil.Process(pid).kill()

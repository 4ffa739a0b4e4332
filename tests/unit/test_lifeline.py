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
        assert len(pids) >= 4, pids  # sleep, leash, sh, two sleeps
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


THREAD_RUNNER = """
import json, sys, threading, time
from pathlib import Path
from loadtests.runner import spawn
out = Path(sys.argv[1])
handles = []
t = threading.Thread(target=lambda: handles.append(
    spawn("load", ["sleep", "300"], {}, out / "t.log", 60)))
t.start(); t.join()  # the forking thread is gone; the runner lives on
print(json.dumps([handles[0].pid]), flush=True)
time.sleep(300)
"""


def test_a_leashed_child_outlives_the_thread_that_started_it_not_the_runner(
    tmp_path: Path,
) -> None:
    runner = subprocess.Popen(
        [sys.executable, "-c", THREAD_RUNNER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert runner.stdout is not None
    [leash] = json.loads(runner.stdout.readline())
    try:
        group = [leash, *[p.pid for p in psutil.Process(leash).children(recursive=True)]]
        time.sleep(1.0)  # long enough for a parent-death signal from the thread's exit
        assert _alive(group) == group, "the child died with its thread, not with the runner"
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
        end = time.monotonic() + 20
        while _alive(group) and time.monotonic() < end:
            time.sleep(0.1)
        assert _alive(group) == []
    finally:
        if runner.poll() is None:
            runner.kill()


def test_the_leash_enforces_the_hard_bound() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "loadtests.leash", "0.5", "2", "--", "sleep", "60"], timeout=30
    )
    assert result.returncode == 124
    assert time.monotonic() - started < 30

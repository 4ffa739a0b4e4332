"""A runner killed at a random moment leaves no orphan and no fault behind (issue 13).

Each case starts a real `gameday run` on the shared stack, SIGKILLs the runner (alone, or
with its whole process tree as a CI job cancel does) at a random moment, then asserts: none of its processes is alive 10 s
later; `gameday recover` exits 0; the stack is at home (edge and database leader in the
home region, every program running, no stopped process, no nftables rule, no latency,
an empty fault journal); the run folder is marked interrupted; and a following
`gameday run kill-api-pod` passes.

CI runs the short version: two kills, each 0.5-3 s after the run's fault is held (its
journal entry written: the fault is in place and the rollback has not begun, the moment a
dead runner leaves the most to undo), instead of anywhere in the first 34 s (baseline,
fault or rollback). GAMEDAY_CRASH_FULL=1 runs every experiment in both kill modes at
random moments of the first 34 s (partition-redis-master takes /tmp/gameday-machine.lock
itself); benchmarks/bench_crash.py does 20 such kills. GAMEDAY_CRASH_SEED fixes the moments.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest

from stack.control import Stack
from stack.heal import restore_all
from tests.conftest import run_cli
from tests.support.crash_harness import crash_once, not_home

pytestmark = pytest.mark.integration

SEED = int(os.environ.get("GAMEDAY_CRASH_SEED", random.randrange(1 << 30)))
SHORT = [("freeze-region", "tree", False), ("kill-region", "runner", True)]
FULL = [
    (exp, mode, True)
    for exp in ("kill-region", "freeze-region", "partition-redis-master", "add-latency")
    for mode in ("runner", "tree")
]
CASES = FULL if os.environ.get("GAMEDAY_CRASH_FULL") else SHORT
# Short: kill while the fault is held; full: anywhere in the run's first 34 s.
FROM_FAULT = CASES is SHORT
WINDOW_S = (0.5, 3.0) if FROM_FAULT else (1.0, 34.0)


@pytest.mark.parametrize(("experiment", "mode", "follow"), CASES)
def test_killed_runner_leaves_nothing_behind(
    healthy_stack: Stack, experiment: str, mode: str, follow: bool
) -> None:
    rng = random.Random(f"{SEED}-{experiment}-{mode}")
    # Not pytest's tmp (0700): the run's processes must be able to read their folders.
    work = Path(tempfile.mkdtemp(prefix="gameday-crash-"))
    os.chmod(work, 0o755)
    crash = crash_once(
        healthy_stack, work, experiment, mode, rng, follow, WINDOW_S, from_fault=FROM_FAULT
    )
    where = f"seed {SEED}, killed {crash.killed_after_s:.1f} s in ({crash.phase}); work {work}"
    assert crash.killed_pids >= 1, where
    assert crash.survivors == [], f"alive 10 s after the kill: {crash.survivors}; {where}"
    assert crash.recover_rc == 0, f"{crash.recover_out}\n{where}"
    assert crash.not_home == [], f"{crash.not_home}\n{crash.recover_out}\n{where}"
    assert crash.marked_interrupted, f"run.json does not say the runner died; {where}"
    if follow:
        assert crash.follow_rc == 0, f"{crash.follow_out}\n{where}"
    shutil.rmtree(work, ignore_errors=True)  # kept for inspection when an assertion failed


def test_up_heals_a_frozen_region_left_by_a_dead_run(healthy_stack: Stack, topology) -> None:
    healthy_stack.freeze_region("primary")  # what a runner killed mid-fault leaves
    result = None
    try:
        result = run_cli(
            "up", "--topology", str(topology.source), "--state-dir", str(healthy_stack.root)
        )
        out = result.stdout + result.stderr
        assert result.returncode == 0, out
        assert "recover: [" in out and "restore-region primary" in out, out
        assert not_home(healthy_stack) == [], out
    finally:
        if result is None or result.returncode != 0:
            restore_all(healthy_stack)

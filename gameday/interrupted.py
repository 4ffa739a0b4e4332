"""Run folders whose runner died: how a live runner is told from a dead one, and the mark.

A runner holds an flock on `<run_dir>/.runner.lock` for its whole life; the kernel
drops it when the process dies by any signal (SIGKILL included). A folder whose
run.json has no end and whose lock is free belongs to a dead runner: `mark`
records that in run.json (`aborted`, `interrupted`), adds an `abort` event with
`runner_died`, so `gameday report` judges it INCONCLUSIVE from the evidence there is.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bedrock.errors import InputError
from bedrock.runfolder import run as run_file
from bedrock.runfolder.events import record_event

RUNNER_LOCK = ".runner.lock"
# A folder from before runner locks existed counts as dead once this old.
LEGACY_AGE_S = 6 * 3600.0


def hold_runner_lock(run_dir: Path) -> int:
    """Take the folder's runner lock; keep the returned descriptor open for the run's life."""
    fd = os.open(run_dir / RUNNER_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def runner_alive(run_dir: Path) -> bool:
    path = run_dir / RUNNER_LOCK
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _last_evidence_wall(run_dir: Path) -> float:
    """The newest write into the folder: where the evidence stops."""
    times = [p.stat().st_mtime for p in run_dir.rglob("*") if p.is_file()]
    return max(times, default=time.time())


def interrupted_runs(runs_root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Folders under `runs_root` with no recorded end whose runner is gone."""
    out: list[tuple[Path, dict[str, Any]]] = []
    if not runs_root.is_dir():
        return out
    for run_dir in run_file.find_runs(runs_root):
        try:
            record = run_file.read_run(run_dir)
        except InputError:
            continue
        if not isinstance(record, dict) or record.get("ended_wall") is not None:
            continue
        if record.get("interrupted") or runner_alive(run_dir):
            continue
        legacy = not (run_dir / RUNNER_LOCK).exists()
        if legacy and time.time() - float(record.get("started_wall") or 0) < LEGACY_AGE_S:
            continue  # no lock to ask: it may still be running
        out.append((run_dir, record))
    return out


def mark(run_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Record in the folder that its runner died; return the updated run.json."""
    last = _last_evidence_wall(run_dir)
    reason = (
        f"the runner (pid {record.get('runner_pid', '?')}) died before the run finished; "
        f"evidence stops at {time.strftime('%H:%M:%S', time.gmtime(last))} UTC"
    )
    record_event(run_dir, "abort", "gameday", reason=reason, runner_died=True)
    record.update(
        aborted=record.get("aborted") or reason,
        ended_wall=last,
        interrupted={"runner_died": True, "last_evidence_wall": last, "found_wall": time.time()},
    )
    run_file.write_run(run_dir, record)
    return record


def mark_interrupted(runs_root: Path, say: Callable[[str], None] = print) -> list[Path]:
    """Mark every interrupted folder; `gameday report DIR` then judges it INCONCLUSIVE.

    Rendering is left to `gameday report` (plots take seconds on a loaded machine):
    recovery stays about undoing faults."""
    marked = []
    for run_dir, record in interrupted_runs(runs_root):
        mark(run_dir, record)
        say(f"marked {run_dir} interrupted (its runner died): `gameday report {run_dir}`")
        marked.append(run_dir)
    return marked

"""Kill a `gameday run` at a random moment and check what it leaves: the crash test's and the
crash benchmark's shared steps (tests/integration/test_crash.py, benchmarks/bench_crash.py).

One crash: start `gameday run EXPERIMENT --profile ci` on a real stack, SIGKILL the runner
(alone, or with its whole process tree as a CI job cancel does) at a random moment, then
measure: which of its processes are still alive 10 s later, whether `gameday recover` exits
0 and how long it takes, whether the stack is at home with nothing broken, and (optionally)
whether a following `gameday run kill-api-pod` passes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bedrock.errors import GamedayError
from bedrock.runfolder import events
from bedrock.runfolder import run as run_file
from stack import netfault
from stack.control import Stack

MACHINE_LOCK = Path("/tmp/gameday-machine.lock")
NEEDS_MACHINE_LOCK = {"partition-redis-master"}  # the nftables table is machine-global
ORPHAN_WAIT_S = 10.0


@dataclass
class Crash:
    experiment: str
    mode: str  # "runner" (the runner alone) or "tree" (the runner and every descendant)
    killed_after_s: float = 0.0
    phase: str = ""  # what the run had done when it died
    killed_pids: int = 0
    survivors: list[str] = field(default_factory=list)
    recover_rc: int | None = None
    recover_s: float = 0.0
    recover_out: str = ""
    not_home: list[str] = field(default_factory=list)
    marked_interrupted: bool = False
    follow_rc: int | None = None
    follow_out: str = ""

    @property
    def ok(self) -> bool:
        return (
            not self.survivors
            and self.recover_rc == 0
            and not self.not_home
            and self.marked_interrupted
            and self.follow_rc in (None, 0)
        )


def gameday(*args: str, cwd: Path, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameday", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _held_by_an_ancestor(path: Path) -> bool:
    """True when `flock path ...` up our process tree already holds the machine lock."""
    try:
        inode = path.stat().st_ino
        locks = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return False
    holders = {int(f[4]) for f in (ln.split() for ln in locks) if f[5].endswith(f":{inode}")}
    ancestors = {p.pid for p in psutil.Process().parents()} | {os.getpid()}
    return bool(holders & ancestors)


@contextlib.contextmanager
def machine_lock(experiment: str, deadline_s: float = 600.0):  # type: ignore[no-untyped-def]
    """Hold /tmp/gameday-machine.lock for experiments that touch machine-global state."""
    if experiment not in NEEDS_MACHINE_LOCK or _held_by_an_ancestor(MACHINE_LOCK):
        yield
        return
    fd = os.open(MACHINE_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        end = time.monotonic() + deadline_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > end:
                    raise TimeoutError(f"{MACHINE_LOCK} still held after {deadline_s} s") from None
                time.sleep(0.5)
        yield
    finally:
        os.close(fd)


def _run_dir(runs: Path) -> Path | None:
    dirs = run_file.find_runs(runs) if runs.exists() else []
    return max(dirs, key=lambda p: p.stat().st_mtime) if dirs else None


def _phase(run_dir: Path) -> str:
    try:
        kinds = [e.kind for e in events.read_events(run_dir)]
    except GamedayError:
        return "starting"
    if "fault.rolled_back" in kinds:
        return "rolling back"
    if "fault.injected" in kinds:
        return "under fault"
    if "phase" in kinds:
        return "baseline"
    return "starting"


def _snapshot(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(procs: list[psutil.Process]) -> list[str]:
    out = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                out.append(f"pid {proc.pid} {' '.join(proc.cmdline())[:100]}")
    return out


def not_home(stack: Stack) -> list[str]:
    """Everything that says the stack is not healthy at home (empty when it is)."""
    problems = []
    home = stack.home_region()
    if stack.edge_active_regions() != [home]:
        problems.append(f"edge routes to {stack.edge_active_regions()}")
    member = stack.region_db_member(home)
    if member and stack.db_leader() != member:
        problems.append(f"database leader is {stack.db_leader()}, not {member}")
    problems += [
        f"{p.name} is {p.state}"
        for p in stack.processes(check_health=False)
        if p.state != "RUNNING"
    ]
    for name, procs in stack.program_trees().items():
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                if proc.status() == psutil.STATUS_STOPPED:
                    problems.append(f"{name}: pid {proc.pid} is stopped")
    ours = stack.addresses()
    problems += [f"nftables rule left: {t}" for a, _, t in netfault.rules_by_address() if a in ours]
    problems += [
        f"{r}: {stack.latency_ms(r)} ms latency" for r in stack.regions if stack.latency_ms(r)
    ]
    problems += [f"journal still holds {e.fault.describe()}" for e in stack.journal.entries()]
    return problems


def _wait_fault_held(stack: Stack, runner: subprocess.Popen[bytes], deadline_s: float) -> None:
    """Until the run's fault is in the journal (written before it is injected)."""
    end = time.monotonic() + deadline_s
    while not stack.journal.entries():
        if runner.poll() is not None or time.monotonic() > end:
            raise AssertionError(f"the run held no fault within {deadline_s} s")
        time.sleep(0.05)


def _wait_gone(procs: list[psutil.Process], deadline_s: float) -> list[str]:
    """Those of `procs` still alive `deadline_s` after now (returns as soon as none is)."""
    end = time.monotonic() + deadline_s
    while _alive(procs) and time.monotonic() < end:
        time.sleep(0.1)
    return _alive(procs)


def crash_once(
    stack: Stack,
    work: Path,
    experiment: str,
    mode: str,
    rng: random.Random,
    follow: bool,
    window_s: tuple[float, float] = (1.0, 34.0),
    from_fault: bool = False,
) -> Crash:
    """One run killed at a random moment in `window_s` after its folder appears (or, with
    `from_fault`, after its fault is held: the moment a dead runner leaves the most behind)."""
    crash = Crash(experiment, mode)
    runs = work / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    before = {p.name for p in runs.iterdir()}
    argv = [sys.executable, "-m", "gameday", "run", experiment, "--load", "constant"]
    argv += ["--profile", "ci", "--state-dir", str(stack.root), "--runs-dir", str(runs)]
    log = (work / f"runner-{experiment}-{mode}.log").open("w")
    with machine_lock(experiment):
        runner = subprocess.Popen(argv, cwd=work, stdout=log, stderr=subprocess.STDOUT)
        try:
            end = time.monotonic() + 120
            run_dir = None
            while run_dir is None and time.monotonic() < end and runner.poll() is None:
                new = [p for p in runs.iterdir() if p.name not in before]
                run_dir = new[0] if new and run_file.is_run_folder(new[0]) else None
                time.sleep(0.1)
            if run_dir is None:
                raise AssertionError(f"no run folder appeared; see {log.name}")
            born = time.monotonic()
            if from_fault:
                _wait_fault_held(stack, runner, 120)
            kill_at = time.monotonic() + rng.uniform(*window_s)
            while time.monotonic() < kill_at and runner.poll() is None:
                time.sleep(0.05)
            crash.phase = _phase(run_dir)
            victims = _snapshot(runner.pid)
            crash.killed_after_s = time.monotonic() - born
            targets = victims if mode == "tree" else victims[:1]
            for proc in targets:
                with contextlib.suppress(psutil.Error):
                    proc.send_signal(signal.SIGKILL)
            crash.killed_pids = len(targets)
            killed = time.monotonic()
            runner.wait(30)
        finally:
            if runner.poll() is None:
                runner.kill()
            log.close()
        # Alive at 10 s is alive until then: stop looking as soon as none is.
        crash.survivors = _wait_gone(victims, killed + ORPHAN_WAIT_S - time.monotonic())
        for proc in victims:  # never leave them to the next test
            with contextlib.suppress(psutil.Error):
                proc.kill()
        t0 = time.monotonic()
        result = gameday(
            "recover", "--state-dir", str(stack.root), "--runs-dir", str(runs), cwd=work
        )
        crash.recover_s = time.monotonic() - t0
        crash.recover_rc = result.returncode
        crash.recover_out = result.stdout + result.stderr
        (work / "recover.out").write_text(crash.recover_out)
    crash.not_home = not_home(stack)
    record = run_file.read_run(run_dir)
    crash.marked_interrupted = bool(record.get("interrupted"))
    if follow:
        result = gameday(
            "run", "kill-api-pod", "--load", "constant", "--profile", "ci",
            "--state-dir", str(stack.root), "--runs-dir", str(work / "follow"), cwd=work,
        )  # fmt: skip
        crash.follow_rc = result.returncode
        crash.follow_out = (result.stdout + result.stderr)[-3000:]
    return crash


def table(crashes: list[Crash]) -> str:
    rows = [
        [
            "#",
            "EXPERIMENT",
            "KILL",
            "AT s",
            "PHASE",
            "ORPHANS@10s",
            "RECOVER",
            "s",
            "HOME",
            "NEXT RUN",
        ]
    ]
    for i, c in enumerate(crashes, 1):
        rows.append(
            [
                str(i),
                c.experiment,
                c.mode,
                f"{c.killed_after_s:.1f}",
                c.phase,
                str(len(c.survivors)),
                f"exit {c.recover_rc}",
                f"{c.recover_s:.1f}",
                "yes" if not c.not_home else "NO",
                "-" if c.follow_rc is None else ("pass" if c.follow_rc == 0 else f"exit {c.follow_rc}"),
            ]
        )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)

"""Start and stop load runs in their own processes: the orchestration's entry point.

    handle = start("spike", "ci", "http://127.0.9.1:8080", run_dir)
    ...; handle.stop(timeout=10)   # or handle.wait()

Locust runs as `python -m locust -f loadtests/scenarios/<scenario>.py --headless` in a new
session (its own process group: `stop` reaches the --processes workers too), on a leash
(`loadtests/leash.py`) so it dies at its hard bound, and within seconds of the runner's
death, even if we never stop it. Output goes to `<run_dir>/load.log`.
`ProcessHandle` is shared with the prober (`loadtests.probes.start`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bedrock.errors import InputError, SetupError
from bedrock.runfolder import events
from loadtests.safety import check_bounds, check_host
from loadtests.settings import LoadSettings
from loadtests.stages import peak_users, total_duration_s

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the tree that holds loadtests/
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
HARD_BOUND_SLACK_S = 60.0  # on top of the planned duration, before the leash ends the run
KILL_AFTER_S = 8  # after a TERM (ours, the bound's or the runner's death), KILL the group
MIN_PACING_S = 0.01  # closed model: at most 100 req/s per user against the API


@dataclass
class ProcessHandle:
    """A child process in its own process group; stop = TERM, then KILL after `timeout`."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    planned_s: float
    started_mono: float = field(default_factory=time.monotonic)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end; returns the exit code (SetupError if still running at timeout)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            raise SetupError(
                f"{self.name} (pid {self.pid}) still running after {timeout} s"
            ) from exc

    def stop(self, timeout: float = 10.0) -> int:
        """TERM the run (clean flush), KILL its whole group if not ended after `timeout` s."""
        if self.running:
            # the leash (our direct child) forwards TERM to the whole group exactly once
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
        return self.proc.wait()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)  # start_new_session: the group id is our pid


def spawn(
    name: str, argv: Sequence[str], env: dict[str, str], log_path: Path, planned_s: float
) -> ProcessHandle:
    """Run argv on a leash (hard bound, dies with us) in a new session, output to log_path."""
    bound = int(planned_s + HARD_BOUND_SLACK_S)
    # The leash ends its whole group (Locust and its --processes workers) when we die, when
    # we TERM it, or at the bound: TERM, then KILL after KILL_AFTER_S (loadtests/leash.py).
    leash = [sys.executable, "-m", "loadtests.leash", str(bound), str(KILL_AFTER_S), "--"]
    cmd = [*leash, *argv]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env}
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            start_new_session=True,
        )
    return ProcessHandle(name, proc, log_path, planned_s)


def planned_duration_s(settings: LoadSettings) -> float:
    return total_duration_s(settings.stages())


def build_settings(
    scenario: str,
    profile: str,
    run_dir: str | os.PathLike[str],
    *,
    open_rate_rps: float | None = None,
    open_lanes: int = 1,
    time_scale: float = 1.0,
    hold_s: float = 0.0,
    ledger_rate_rps: float = 10.0,
    client: str = "",
    max_in_flight: int = 1000,
    request_timeout_s: float = 5.0,
    mix: str = "api",
    user_pacing_s: float | None = None,
) -> LoadSettings:
    """Validated settings for one run (InputError when out of bounds)."""
    run_path = Path(run_dir).resolve()
    settings = LoadSettings(
        scenario=scenario,
        profile=profile,
        run_dir=str(run_path),
        time_scale=time_scale,
        hold_s=hold_s,
        open_rate_rps=open_rate_rps,
        open_lanes=open_lanes,
        max_in_flight=max_in_flight,
        ledger_rate_rps=ledger_rate_rps,
        client=client or run_path.name,
        request_timeout_s=request_timeout_s,
        mix=mix,
        **({} if user_pacing_s is None else {"user_pacing_s": user_pacing_s}),
    )
    stages = settings.stages()
    check_bounds(total_duration_s(stages), open_rate_rps, peak_users(stages))
    if settings.user_pacing_s < MIN_PACING_S and mix != "static":
        raise InputError(
            f"user_pacing_s {settings.user_pacing_s}: below {MIN_PACING_S} s only with "
            "mix='static' (unpaced users against the API are an unbounded rate)"
        )
    return settings


def _locust_argv(scenario: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(SCENARIO_DIR / f"{scenario}.py"),
        "--headless",
        "--only-summary",
        "--stop-timeout",
        "2",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]


def _check_processes(processes: int) -> None:
    limit = (os.cpu_count() or 1) * 4
    if not 1 <= processes <= limit:
        raise InputError(f"processes {processes}: must be in [1, {limit}]")


def start(
    scenario: str,
    profile: str,
    host: str,
    run_dir: str | os.PathLike[str],
    *,
    processes: int = 1,
    allow_hosts: Sequence[str] = (),
    master_bind: tuple[str, int] | None = None,
    expect_workers: int = 0,
    open_lanes: int | None = None,
    **settings_kw: Any,
) -> ProcessHandle:
    """Start `scenario` under `profile` against `host`, recording into `run_dir`.

    Closed model by default; `open_rate_rps=R` switches to the open model with peak rate R.
    `processes` > 1 forks Locust workers on this machine (`--processes`). `master_bind=(addr,
    port)` with `expect_workers=N` makes this a master for N workers started elsewhere with
    `start_worker` (each worker process then drives one open-model lane: `open_lanes` defaults
    to N). Other keywords: see `build_settings` (`time_scale`, `hold_s`, `ledger_rate_rps`, `client`,
    `max_in_flight`, `request_timeout_s`, `mix="static"`, `user_pacing_s`).
    Raises InputError for a non-loopback host (unless allowed) or an out-of-bounds run.
    """
    check_host(host, allow_hosts)
    _check_processes(processes)
    lanes = open_lanes or (expect_workers if master_bind else processes)
    settings = build_settings(scenario, profile, run_dir, open_lanes=lanes, **settings_kw)
    argv = [*_locust_argv(scenario), "--host", host]
    if master_bind:
        if expect_workers < 1:
            raise InputError("expect_workers: a master needs >= 1 worker")
        argv += ["--master", "--master-bind-host", master_bind[0]]
        argv += ["--master-bind-port", str(master_bind[1]), "--expect-workers", str(expect_workers)]
    elif processes > 1:
        argv += ["--processes", str(processes)]
    run_path = Path(settings.run_dir)
    run_path.mkdir(parents=True, exist_ok=True)
    planned = planned_duration_s(settings)
    name = f"locust {scenario}/{profile}"
    env = {**settings.to_env(), **resolver_env(host), "GAMEDAY_ALLOW_HOSTS": ",".join(allow_hosts)}
    return spawn(name, argv, env, run_path / "load.log", planned)


def wait_started(
    handle: ProcessHandle, run_dir: str | os.PathLike[str], deadline_s: float = 30.0
) -> float:
    """Wait until the load's first step is announced (`load.step` in events.jsonl): Locust
    takes ~1 s to start (more on a busy machine), and a phase must not begin unloaded.
    Returns the seconds waited; SetupError when the load died or never started."""
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        if events.events_of_kind(run_dir, events.LOAD_STEP):
            return time.monotonic() - start
        if not handle.running:
            raise SetupError(f"{handle.name} ended before its first step (see {handle.log_path})")
        time.sleep(0.05)
    raise SetupError(
        f"{handle.name} did not start within {deadline_s:.0f} s (see {handle.log_path})"
    )


def resolver_env(host: str) -> dict[str, str]:
    """gevent's default resolver runs getaddrinfo in a thread pool for every new connection,
    which costs the open model dearly in bursts; an IP literal or localhost never needs the
    network, so resolve those inline."""
    name = urlsplit(host).hostname or ""
    if name == "localhost":
        return {"GEVENT_RESOLVER": "block"}
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return {}
    return {"GEVENT_RESOLVER": "block"}


def start_worker(
    scenario: str,
    profile: str,
    run_dir: str | os.PathLike[str],
    master: tuple[str, int],
    *,
    processes: int = 1,
    open_lanes: int = 1,
    **settings_kw: Any,
) -> ProcessHandle:
    """Start Locust worker process(es) for a master (same scenario, profile and settings).

    Each worker writes `requests/<host>-<pid>.jsonl` into its own `run_dir`; on another
    machine, copy those files into the run folder afterwards (names do not collide).
    """
    _check_processes(processes)
    settings = build_settings(scenario, profile, run_dir, open_lanes=open_lanes, **settings_kw)
    argv = [*_locust_argv(scenario), "--worker", "--master-host", master[0]]
    argv += ["--master-port", str(master[1])]
    if processes > 1:
        argv += ["--processes", str(processes)]
    run_path = Path(settings.run_dir)
    run_path.mkdir(parents=True, exist_ok=True)
    planned = planned_duration_s(settings) + 30.0  # it waits for the master to start the run
    log = run_path / f"load-worker-{os.getpid()}-{time.monotonic_ns()}.log"
    return spawn(f"locust worker {scenario}", argv, settings.to_env(), log, planned)

"""Start and stop load runs in their own processes: the orchestration's entry point.

    handle = start("spike", "ci", "http://127.0.9.1:8080", run_dir)
    ...; handle.stop(timeout=10)   # or handle.wait()

Locust runs as `python -m locust -f loadtests/scenarios/<scenario>.py --headless` in a new
session (its own process group: `stop` reaches the --processes workers too), under coreutils
`timeout` so it dies at its hard bound even if we do not. Output goes to `<run_dir>/load.log`.
`ProcessHandle` is shared with the prober (`loadtests.probes.start`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gameday.errors import InputError, SetupError
from loadtests.safety import MAX_USERS, check_bounds, check_host
from loadtests.settings import LoadSettings
from loadtests.stages import peak_users, scaled_stages, total_duration_s

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the tree that holds loadtests/
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
HARD_BOUND_SLACK_S = 60.0  # on top of the planned duration, before `timeout` kills the run


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
            raise SetupError(f"{self.name} (pid {self.pid}) still running after {timeout} s") from exc

    def stop(self, timeout: float = 10.0) -> int:
        """TERM the run (clean flush), KILL its whole group if not ended after `timeout` s."""
        if self.running:
            # `timeout` (our direct child) forwards TERM to the whole group exactly once
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
    """Run argv under `timeout` (hard bound) in a new session, output to log_path."""
    bound = int(planned_s + HARD_BOUND_SLACK_S)
    cmd = ["timeout", "--signal=TERM", "--kill-after=15", str(bound), *argv]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env}
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env, start_new_session=True
        )
    return ProcessHandle(name, proc, log_path, planned_s)


def planned_duration_s(settings: LoadSettings) -> float:
    stages = scaled_stages(settings.scenario, settings.profile, settings.time_scale)
    return total_duration_s(stages)


def start(
    scenario: str,
    profile: str,
    host: str,
    run_dir: str | os.PathLike[str],
    *,
    open_rate_rps: float | None = None,
    processes: int = 1,
    time_scale: float = 1.0,
    ledger_rate_rps: float = 10.0,
    client: str = "",
    allow_hosts: Sequence[str] = (),
    max_in_flight: int = 1000,
    request_timeout_s: float = 5.0,
    extra_locust_args: Sequence[str] = (),
    open_lanes: int | None = None,
) -> ProcessHandle:
    """Start `scenario` under `profile` against `host`, recording into `run_dir`.

    Closed model by default; `open_rate_rps` switches to the open model with that peak rate.
    `processes` > 1 forks Locust workers (`--processes`); for master/workers across machines
    pass `extra_locust_args` (e.g. ["--master", "--expect-workers", "4"]) and `open_lanes`.
    Raises InputError for a non-loopback host (unless allowed) or an out-of-bounds run.
    """
    check_host(host, allow_hosts)
    if processes < 1 or processes > (os.cpu_count() or 1) * 4:
        raise InputError(f"processes {processes}: must be in [1, {(os.cpu_count() or 1) * 4}]")
    run_path = Path(run_dir).resolve()
    settings = LoadSettings(
        scenario=scenario,
        profile=profile,
        run_dir=str(run_path),
        time_scale=time_scale,
        open_rate_rps=open_rate_rps,
        open_lanes=open_lanes or processes,
        max_in_flight=max_in_flight,
        ledger_rate_rps=ledger_rate_rps,
        client=client or run_path.name,
        request_timeout_s=request_timeout_s,
    )
    planned = planned_duration_s(settings)
    stages = scaled_stages(scenario, profile, time_scale)
    check_bounds(planned, open_rate_rps, min(peak_users(stages), MAX_USERS))
    argv = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(SCENARIO_DIR / f"{scenario}.py"),
        "--headless",
        "--host",
        host,
        "--only-summary",
        "--stop-timeout",
        "2",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]
    if processes > 1:
        argv += ["--processes", str(processes)]
    argv += list(extra_locust_args)
    run_path.mkdir(parents=True, exist_ok=True)
    return spawn(f"locust {scenario}/{profile}", argv, settings.to_env(), run_path / "load.log", planned)

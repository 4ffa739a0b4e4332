"""One run, start to verdict: probes + load, baseline, the fault (Chaos Toolkit), recovery,
then the evidence (ledger read-back, Prometheus ranges, controller events) and the SLO verdict.

Everything lands in the run folder as it happens. Ctrl-C or the safeguard stops
the experiment (Chaos Toolkit runs its rollbacks), then a safety net restores the
whole stack, and the folder is still finished and judged (the abort is recorded,
so the verdict is at best inconclusive).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bedrock.errors import EXIT_INCONCLUSIVE, SetupError
from bedrock.runfolder import journal as journal_file
from bedrock.runfolder import reports as reports_file
from bedrock.runfolder import requests as requests_dir
from bedrock.runfolder import run as run_file
from bedrock.runfolder import spec as spec_file
from bedrock.runfolder.events import record_event
from bedrock.version import __version__
from gameday.collect import (
    collect_metrics,
    copy_stack_logs,
    merge_stack_events,
    read_back_ledger,
    stack_log_offsets,
    versions,
)
from gameday.interrupted import hold_runner_lock
from gameday.live import hub as live
from gameday.monitor import Monitor
from gameday.plan import RunPlan
from gameday.targets import Target, as_target
from loadtests.lifeline import die_with_parent

if TYPE_CHECKING:
    from stack.control import Stack

CHAOS_GRACE_S = 180.0  # a rollback (region restore + failback) may take this long
# Chaos Toolkit starts this long before the baseline ends (its start-up and steady-state
# probes overlap the baseline); experiments.gate holds its method until the fault phase.
CHAOS_LEAD_S = 2.0
FAULT_GATE = Path(__file__).resolve().parents[1] / "experiments" / "controls" / "fault-gate.json"


@dataclass
class RunOutcome:
    run_dir: Path
    exit_code: int
    summary: str
    aborted: str | None


def new_run_dir(runs_root: Path, name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = runs_root / f"{stamp}-{name}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = runs_root / f"{stamp}-{name}-{suffix}"
    requests_dir.make_folder(path)
    return path


def write_run_json(run_dir: Path, record: dict[str, Any]) -> None:
    run_file.write_run(run_dir, record)


def _sleep_until(deadline_mono: float, stop: Any) -> None:
    while time.monotonic() < deadline_mono and not stop():
        time.sleep(min(0.2, max(0.0, deadline_mono - time.monotonic())))


def preflight(target: Target | Stack, deadline_s: float = 90.0, say: Any = print) -> None:
    """Start from a healthy stack at home: entry healthy, edge and DB leader in the home region."""
    target = as_target(target)
    last = ""
    end = time.monotonic() + deadline_s
    next_say = time.monotonic() + 5.0
    while time.monotonic() < end:
        if time.monotonic() > next_say:
            say(f"gameday: waiting for the stack to be healthy at home: {last}")
            next_say += 5.0
        try:
            home = target.at_home()
        except Exception as exc:  # noqa: BLE001 - keep waiting, report the last reason
            last = str(exc)
        else:
            if home.ok:
                return
            last = home.detail
        time.sleep(0.5)
    raise SetupError(f"the stack is not healthy at home before the run: {last}")


class Run:
    def __init__(
        self, plan: RunPlan, target: Target | Stack, runs_root: Path, say: Any = print
    ) -> None:
        self.plan = plan
        self.target = as_target(target)
        self.runs_root = runs_root
        self.say = say
        self.run_dir = new_run_dir(runs_root.resolve(), plan.name)
        self.runner_lock = hold_runner_lock(self.run_dir)  # the kernel frees it when we die
        self.chaos: subprocess.Popen[bytes] | None = None
        self.aborted: str | None = None
        self.record: dict[str, Any] = {}
        logs_dir = self.target.handles.logs_dir
        self.log_offsets = stack_log_offsets(logs_dir) if logs_dir is not None else {}

    # -- pieces ------------------------------------------------------------------------
    def _start_chaos(self, gate_fd: int) -> subprocess.Popen[bytes]:
        """Start Chaos Toolkit; its method waits until a byte arrives on `gate_fd`."""
        assert self.plan.experiment is not None
        env = {
            **os.environ,
            "GAMEDAY_RUN_DIR": str(self.run_dir),
            "GAMEDAY_FAULT_S": str(self.plan.windows.fault_s),
            "GAMEDAY_FAULT_GATE_FD": str(gate_fd),
        }
        state_dir = self.target.handles.state_dir
        if state_dir is not None:
            env["GAMEDAY_STATE_DIR"] = str(state_dir)
        chaos = Path(sys.executable).with_name("chaos")
        argv = [
            str(chaos),
            "--no-version-check",
            "--log-file",
            str(self.run_dir / "chaostoolkit.log"),
            "run",
            "--journal-path",
            str(journal_file.path_of(self.run_dir)),
            "--rollback-strategy",
            "always",
            "--control-file",
            str(FAULT_GATE),
            str(Path(self.plan.experiment).resolve()),
        ]
        log = (self.run_dir / "chaos.out").open("ab")
        # Dies with the runner (SIGKILL: its faults stay in the journal for `gameday recover`).
        return subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.run_dir,
            pass_fds=(gate_fd,),
            preexec_fn=die_with_parent(signal.SIGKILL),  # noqa: PLW1509 - prctl only
        )

    def _stop_chaos(self, reason: str) -> None:
        """Interrupt the experiment: Chaos Toolkit runs its rollbacks on SIGINT."""
        if self.chaos is None or self.chaos.poll() is not None:
            return
        self.say(f"gameday: stopping the experiment ({reason}); rollbacks run")
        os.killpg(self.chaos.pid, signal.SIGINT)

    def _wait_chaos(self) -> int | None:
        if self.chaos is None:
            return None
        try:
            return self.chaos.wait(CHAOS_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.chaos.pid, signal.SIGKILL)
            return self.chaos.wait()

    def _trip(self, reason: str) -> None:
        self.aborted = reason
        self._stop_chaos(reason)

    # -- the run -------------------------------------------------------------------------
    def execute(self) -> RunOutcome:
        """Load and probes, baseline, the fault, recovery; then the evidence and the verdict."""
        self._record_start()
        monitor = Monitor(
            self.target,
            self.run_dir,
            self.plan.windows.max_outage_s,
            self._trip,
            probe_rate_rps=self.plan.windows.probe_rate_rps,
        )
        load = probes = None
        interrupted = False
        try:
            load, probes = self._start_load()
            monitor.start()
            self._phases(monitor)
        except KeyboardInterrupt:
            interrupted = True
            self.aborted = self.aborted or "interrupted by the operator (Ctrl-C)"
            record_event(self.run_dir, "abort", "operator", reason=self.aborted)
            self._stop_chaos("Ctrl-C")
            self._wait_chaos()
        finally:
            monitor.set_phase("stopping")
            for handle in (load, probes):
                if handle is not None:
                    handle.stop(15)
            monitor.stop()
            if self.plan.experiment is not None:
                self._safety_net()
        return self._finish(interrupted)

    def _record_start(self) -> None:
        """run.json, slo.yaml and the run.started event: what runs, where, when."""
        plan, handles = self.plan, self.target.handles
        started_wall, started_mono = time.time(), time.monotonic()
        self.record = {
            "schema": "gameday.run/1",
            "name": plan.name,
            "experiment": str(plan.experiment) if plan.experiment else None,
            "scenario": plan.scenario,
            "profile": plan.profile,
            "target": plan.target,
            "started_wall": started_wall,
            "started_mono": started_mono,
            "ended_wall": None,
            "ended_mono": None,
            "entry_url": handles.entry_url,
            "prometheus_url": handles.prometheus_url,
            "regions": {r: {"url": url} for r, url in handles.regions.items()},
            "versions": versions(handles.db_api_urls),
            "expect": plan.expect,
            "ledger_client": self.run_dir.name,
            "windows_s": plan.describe()["windows_s"],
            "aborted": None,
            "runner_pid": os.getpid(),
        }
        write_run_json(self.run_dir, self.record)
        self._write_slo_spec()
        record_event(self.run_dir, "run.started", "gameday", plan=plan.describe())
        self.say(f"run folder: {self.run_dir}")
        live.run_started(self.run_dir, plan.name, plan.windows.total_s)

    def _start_load(self) -> tuple[Any, Any]:
        """Probes and load, started; returns once the load generator runs.

        Load and probes must outlive the windows plus the rollback; we stop them at the
        recovery phase's planned end. The load's shape spans the windows (+60 s) and its
        last level is held through the longest rollback (CHAOS_GRACE_S), so every phase is
        loaded to its end however long the fault took.
        """
        from loadtests import probes as probe_runner
        from loadtests import runner as load_runner
        from loadtests.runner import build_settings, planned_duration_s

        plan, w, entry = self.plan, self.plan.windows, self.target.handles.entry_url
        window = w.total_s + 60.0
        nominal = planned_duration_s(build_settings(plan.scenario, plan.profile, self.run_dir))
        probes = probe_runner.start(
            entry, self.run_dir, rate_rps=w.probe_rate_rps, duration_s=window + CHAOS_GRACE_S
        )
        load = load_runner.start(
            plan.scenario,
            plan.profile,
            entry,
            self.run_dir,
            time_scale=max(window / nominal, 0.01),
            hold_s=CHAOS_GRACE_S,
            ledger_rate_rps=w.ledger_rate_rps,
            client=self.record["ledger_client"],
        )
        load_runner.wait_started(load, self.run_dir)  # no phase starts unloaded
        return load, probes

    def _phases(self, monitor: Monitor) -> None:
        """Baseline, the fault (the experiment, or a quiet window), recovery."""
        w = self.plan.windows
        self._phase(monitor, "baseline")
        baseline_end = time.monotonic() + w.baseline_s
        if self.plan.experiment is None:
            _sleep_until(baseline_end, lambda: False)
            self._phase(monitor, "fault")
            _sleep_until(time.monotonic() + w.fault_s, lambda: False)
        else:
            _sleep_until(baseline_end - CHAOS_LEAD_S, lambda: False)
            gate_read, gate = os.pipe()
            try:
                self.chaos = self._start_chaos(gate_read)
            finally:
                os.close(gate_read)
            with os.fdopen(gate, "wb", buffering=0) as gate_file:
                _sleep_until(baseline_end, lambda: False)
                self._phase(monitor, "fault")
                monitor.guard_armed = True
                _open_gate(gate_file)
            self._wait_chaos()
            monitor.guard_armed = False
            self._check_journal()
        self._phase(monitor, "recovery")
        _sleep_until(time.monotonic() + w.recovery_s, lambda: False)

    def _phase(self, monitor: Monitor, name: str) -> None:
        monitor.set_phase(name)
        record_event(self.run_dir, "phase", "gameday", name=name)

    def _check_journal(self) -> None:
        """A fault that never ran is no evidence: say why, so the verdict is inconclusive."""
        journal = journal_file.read_journal(self.run_dir)
        if journal is None:
            self.aborted = self.aborted or "the experiment left no journal"
            record_event(self.run_dir, "abort", "gameday", reason=self.aborted)
            return
        before = (journal.get("steady_states") or {}).get("before") or {}
        record_event(
            self.run_dir,
            "chaos.ended",
            "chaos",
            status=journal.get("status"),
            deviated=journal.get("deviated"),
            steady_state_before=before.get("steady_state_met"),
        )
        if before and before.get("steady_state_met") is False:
            failing = [
                p["activity"]["name"]
                for p in before.get("probes", [])
                if not p.get("tolerance_met")
            ]
            self.aborted = self.aborted or (
                f"steady state not met before the fault ({', '.join(failing) or 'unknown probe'}): "
                "the method did not run"
            )
            record_event(self.run_dir, "abort", "chaos", reason=self.aborted)
            self.say(f"gameday: {self.aborted}")

    def _write_slo_spec(self) -> None:
        """Chaos runs judge service under fault; throughput is judged by load-only runs."""
        from slo.spec import SloSpec, spec_to_yaml

        spec = SloSpec()
        if self.plan.experiment is not None:
            spec = spec.model_copy(update={"throughput": None})
        if not self.target.scales_on_load:
            # Without an autoscaler nothing scales on load: scale time is judged by
            # `gameday capacity` and the autoscaler's own runs, not here.
            spec = spec.model_copy(update={"scale_time": None})
        spec_file.write_spec(self.run_dir, spec_to_yaml(spec))

    def _safety_net(self) -> None:
        """Whatever the experiment did or did not roll back: restore the whole target."""
        try:
            done = self.target.restore(self.say)
            record_event(self.run_dir, "stack.restored", "gameday", **done)
        except Exception as exc:  # noqa: BLE001 - report it, the folder must still be finished
            self.say(f"gameday: WARNING: the stack could not be fully restored: {exc}")
            record_event(self.run_dir, "stack.restore_failed", "gameday", error=str(exc))

    def _finish(self, interrupted: bool) -> RunOutcome:
        import slo

        self.say("collecting evidence: ledger read-back, Prometheus ranges, controller events")
        handles = self.target.handles
        read_back_ledger(handles.ledger_url, self.record["ledger_client"], self.run_dir)
        ended_wall, ended_mono = time.time(), time.monotonic()
        started_wall = self.record["started_wall"]
        merge_stack_events(handles.events_dir, self.run_dir, started_wall, ended_wall)
        collect_metrics(handles.prometheus_url, self.run_dir, started_wall, ended_wall)
        if handles.logs_dir is not None:
            copy_stack_logs(handles.logs_dir, self.log_offsets, self.run_dir)
        record_event(self.run_dir, "run.ended", "gameday", aborted=self.aborted)
        self.record.update(ended_wall=ended_wall, ended_mono=ended_mono, aborted=self.aborted)
        write_run_json(self.run_dir, self.record)
        results = slo.evaluate(self.run_dir)
        slo.render(self.run_dir, results)
        code = results.verdict.exit_code
        if interrupted and code == 0:
            code = EXIT_INCONCLUSIVE
        live.run_finished(
            results.verdict.status.upper(),
            results.verdict.summary,
            self.aborted,
            reports_file.html_path(self.run_dir),
        )
        return RunOutcome(self.run_dir, code, results.verdict.summary, self.aborted)


def _open_gate(gate_file: Any) -> None:
    """Let the experiment's method run (experiments.gate). A closed pipe means Chaos
    Toolkit already ended (steady state not met, or it died): the journal says which."""
    from experiments.gate import OPEN

    try:
        gate_file.write(OPEN)
    except BrokenPipeError:
        pass


def run_version() -> str:
    return __version__

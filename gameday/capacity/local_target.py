"""`gameday capacity` against the real local stack: the CapacityTarget and SpikeTarget.

`build(profile, out_dir, **opts)` (the CLI's default `--target`) opens a running stack
(`state_dir`, else $GAMEDAY_STATE_DIR, else <tmp>/gameday/state) or, given `topology` (and a `state_dir`
for it), brings one up and tears it down at `close()`. Options (strings): `region` (default:
the active region), `via` = `region` (the region's own HAProxy, default) or `entry` (the edge),
`processes` (Locust processes), `hpa`, `deployment` (for the CPU and memory requests the
utilisations are computed against, as the HPA does).

- `set_replicas(n)`: `Stack.scale`, then waits until the n replicas answer /health and the
  regional HAProxy has them UP.
- `load_step(rate, s)`: an open-model Locust run (`loadtests.runner.start`, scenario
  `constant`) through the load balancer; figures come from the step's run folder histograms
  (`requests/*.jsonl`) over its whole seconds, the first and last (partial) ones left out,
  with the open model's late arrivals over the same seconds, the generator's CPU and
  run-queue wait (its `load.generator` events) and the machine's load (gameday/capacity/machine.py).
- `measure_startup()`: adds one replica, times start -> /health 200, removes it; 3 times.
- `run_spike(plan)`: the autoscaler daemon (stack/autoscaler) on a thread against this stack
  and its Prometheus, a baseline load for the whole plan plus a surge process for the hold.
  The step time is the first second the surge actually sent requests (Locust's start-up is
  not counted). Each replica's own `http_requests_total` (probes and /static health checks
  excluded) is read before the surge and at its end: `served_requests`.
Every run writes its run folder under `out_dir` (steps/, startup/, spike/ with events.jsonl).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from autoscaler.algorithm import Settings
from autoscaler.daemon import Autoscaler, DaemonConfig
from autoscaler.events import EventLog
from autoscaler.prometheus import PrometheusMetrics, PrometheusSettings
from autoscaler.spec import HpaSpec, load_hpa
from bedrock.errors import ActionError, ConfigError, InputError, SetupError
from bedrock.loader import load_documents
from bedrock.runfolder.events import LOAD_OPEN_MODEL, events_of_kind, read_events
from bedrock.runfolder.events import path_of as events_file
from gameday.capacity.machine import Snapshot, generator_figures
from gameday.capacity.run import LocalSpikePlan, ObservedSpike, StepFigures
from loadtests.histograms import Cell, load_cells, merge
from loadtests.recorder import OUTCOME_LATE
from loadtests.runner import ProcessHandle, start
from slo.capacity_knees import StepLoad
from stack import haproxy
from stack.control import Stack
from stack.scaler import StackScaler

log = logging.getLogger("gameday.capacity")

CONSTANT_SCENARIO_S = 30.0  # the `constant` scenario under profile ci lasts 30 s at scale 1
NOT_SERVED = frozenset({"/health", "/static", "/metrics"})  # probes and HAProxy checks
_COUNTER = re.compile(r"^http_requests_total\{(.*)\}\s+([0-9.eE+-]+)$")  # route="/items/{id}"
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def resource_requests(path: str | Path) -> tuple[float, float]:
    """(CPU millicores, memory bytes) requested by the first container of a Deployment."""
    docs = [d.data for d in load_documents(path)]
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "Deployment":
            try:
                req = doc["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
                return _millicores(str(req["cpu"])), _bytes(str(req["memory"]))
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise ConfigError(
                    str(path), [f"spec.template.spec.containers[0].resources.requests: {exc}"]
                ) from None
    raise ConfigError(str(path), ["no Deployment in the file"])


def _millicores(v: str) -> float:
    return float(v[:-1]) if v.endswith("m") else float(v) * 1000.0


def _bytes(v: str) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in units.items():
        if v.endswith(suffix):
            return float(v[: -len(suffix)]) * factor
    return float(v)


def served_counts(metrics_text: str) -> int:
    """Requests a replica answered, from its /metrics text, probes and health checks excluded."""
    total = 0.0
    for line in metrics_text.splitlines():
        m = _COUNTER.match(line.strip())
        if not m:
            continue
        labels = dict(_LABEL.findall(m.group(1)))
        if labels.get("route") not in NOT_SERVED:
            total += float(m.group(2))
    return int(total)


def _lanes_done(run_dir: Path) -> bool:
    """Whether the step's open-model lane reported (its `load.open_model` event)."""
    if not events_file(run_dir).is_file():
        return False
    try:
        return bool(events_of_kind(run_dir, LOAD_OPEN_MODEL))
    except InputError:  # a line still being written: not reported yet
        return False


def step_figures(cells: dict[tuple[int, str], Cell]) -> StepFigures:
    """A step's figures over its whole seconds (first and last, partial, left out)."""
    seconds = sorted({t for t, _ in cells})
    if len(seconds) < 3:
        return StepFigures(0.0, None, None)
    first, last = seconds[0] + 1, seconds[-1]
    cell = merge(cells, t_from=first, t_to=last)
    span = last - first
    sent = cell.sent
    late = cell.outcomes.get(OUTCOME_LATE, 0)
    return StepFigures(
        achieved_rps=cell.ok / span,
        p95_ms=cell.percentile_ms(95) if sent else None,
        error_rate=(sent - cell.ok) / sent if sent else None,
        load=StepLoad(intended=sent + late, late=late),
    )


class RealStackTarget:
    """CapacityTarget + SpikeTarget over one region of a running local stack."""

    def __init__(
        self,
        stack: Stack,
        out_dir: str | Path,
        *,
        region: str | None = None,
        via: str = "region",
        processes: int = 1,
        hpa: str = str(Path(__file__).resolve().parents[2] / "manifests/k8s/base/hpa.yaml"),
        deployment: str = "manifests/k8s/base/api-deployment.yaml",
        on_close: Any = None,
    ) -> None:
        if via not in ("region", "entry"):
            raise ConfigError("--target-opt via", [f"{via!r}: expected region or entry"])
        self.stack = stack
        self.out = Path(out_dir).resolve()
        self.region = region or stack.home_region()
        if self.region not in stack.handles["regions"]:
            raise ConfigError("--target-opt region", [f"{self.region!r}: not an API region"])
        self.url = stack.region_url(self.region) if via == "region" else stack.entry_url
        self.processes = processes
        self.hpa = hpa
        self.cpu_m, self.memory_b = resource_requests(deployment)
        self.scaler = StackScaler(stack)
        self.initial = stack.replicas(self.region)
        self._on_close = on_close
        self._n = 0
        self._closed = False

    # -- helpers -------------------------------------------------------------------------

    @property
    def max_replicas(self) -> int:
        return self.scaler.max_replicas(self.region)

    def _name(self, i: int) -> str:
        return f"api-{self.region}-{i}"

    def _lb_up(self, n: int) -> bool:
        sock = Path(self.stack.handles["regions"][self.region]["admin_socket"])
        up = {s.name for s in haproxy.servers(sock, "be_api") if s.operational == "UP"}
        return all(self._name(i) in up for i in range(n))

    def _wait(self, what: str, cond: Any, deadline_s: float = 60.0) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            with contextlib.suppress(ActionError, httpx.HTTPError):
                if cond():
                    return
            time.sleep(0.05)
        raise ActionError(f"{what}: not within {deadline_s:.0f} s")

    def _run_dir(self, kind: str, label: str) -> Path:
        self._n += 1
        path = self.out / kind / f"{self._n:02d}-{label}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _load(self, run_dir: Path, rate_rps: float, duration_s: float) -> ProcessHandle:
        return start(
            "constant",
            "ci",
            self.url,
            run_dir,
            processes=self.processes,
            open_rate_rps=rate_rps,
            time_scale=duration_s / CONSTANT_SCENARIO_S,
            ledger_rate_rps=0,
            client=f"capacity-{run_dir.name}",
        )

    # -- CapacityTarget --------------------------------------------------------------------

    def set_replicas(self, replicas: int) -> None:
        if not 1 <= replicas <= self.max_replicas:
            raise ConfigError(
                "profile", [f"{replicas} replicas: {self.region} holds 1..{self.max_replicas}"]
            )
        if self.stack.replicas(self.region) != replicas:
            self.stack.scale(self.region, replicas)
        self._wait(
            f"{replicas} replicas of {self.region} ready",
            lambda: self.scaler.ready_replicas(self.region) == replicas,
        )
        self._wait(
            f"HAProxy {self.region} has {replicas} replicas UP", lambda: self._lb_up(replicas)
        )

    def load_step(self, rate_rps: float, duration_s: float) -> StepFigures:
        n = self.stack.replicas(self.region)
        run_dir = self._run_dir("steps", f"{n}x{rate_rps:.0f}rps")
        stack_pid = self.stack.sup.pid()
        before = Snapshot.take(stack_pid)
        handle = self._load(run_dir, rate_rps, duration_s)
        try:
            # the lane writes load.open_model once its arrivals are all answered (or timed
            # out): stop there (TERM flushes the recorder) instead of waiting for Locust's own
            # end and stop timeout, ~3 s of idle per step
            self._wait(
                f"the load step in {run_dir}",
                lambda: not handle.running or _lanes_done(run_dir),
                deadline_s=duration_s + 90,
            )
        finally:
            handle.stop()
        after = Snapshot.take(stack_pid)
        fig = step_figures(load_cells(run_dir))
        cpu, runq = generator_figures(
            {"kind": e.kind, "detail": e.detail} for e in read_events(run_dir)
        )
        load = dataclasses.replace(
            fig.load or StepLoad(),
            generator_cpu=cpu,
            generator_runq=runq,
            load1=before.load1,
            others_cores=before.others_cores(after),
            cpus=os.cpu_count(),
        )
        return dataclasses.replace(fig, load=load)

    def measure_startup(self, times: int = 3) -> list[float]:
        base = self.stack.replicas(self.region)
        if base + 1 > self.max_replicas:
            raise ConfigError("profile", [f"no spare replica slot in {self.region} to time"])
        events = EventLog(events_file(self._run_dir("startup", f"{times}x")), source="capacity")
        name = self._name(base)
        url = self.stack.api_url(self.region, base)
        out = []
        for _ in range(times):
            t0 = time.monotonic()
            self.stack.scale(self.region, base + 1)
            events.record("replica.started", region=self.region, replica=name)
            self._wait(
                f"{name} ready", lambda: httpx.get(f"{url}/health", timeout=0.5).status_code == 200
            )
            startup = time.monotonic() - t0
            events.record(
                "replica.ready", region=self.region, replica=name, startup_s=round(startup, 3)
            )
            out.append(startup)
            self.stack.scale(self.region, base)
            events.record("replica.stopped", region=self.region, replica=name)
            self._wait(
                f"{name} stopped",
                lambda: self.stack.sup.states()[name].state in ("STOPPED", "EXITED", "FATAL"),
            )
        return out

    # -- SpikeTarget -----------------------------------------------------------------------

    def spike_spec(self) -> HpaSpec:
        spec = load_hpa(self.hpa)
        if spec.min_replicas > self.max_replicas:
            raise ConfigError(
                self.hpa,
                [f"minReplicas {spec.min_replicas} > {self.region}'s {self.max_replicas} slots"],
            )
        return dataclasses.replace(spec, max_replicas=min(spec.max_replicas, self.max_replicas))

    def served(self) -> dict[str, int]:
        out = {}
        for i in range(self.stack.replicas(self.region)):
            try:
                text = httpx.get(f"{self.stack.api_url(self.region, i)}/metrics", timeout=1).text
            except httpx.HTTPError:
                continue
            out[self._name(i)] = served_counts(text)
        return out

    def _spike_daemon(self, spec: HpaSpec, plan: LocalSpikePlan, events: EventLog) -> Autoscaler:
        """The autoscaler daemon on this stack, on the plan's compressed clock."""
        return Autoscaler(
            spec,
            self.scaler,
            PrometheusMetrics(
                PrometheusSettings(
                    url=self.stack.prometheus_url,
                    rate_window_s=int(plan.rate_window_s),
                    cpu_request_millicores=self.cpu_m,
                    memory_request_bytes=self.memory_b,
                )
            ),
            DaemonConfig(
                (self.region,),
                period_s=plan.period_s,
                watch_interval_s=0.2,
                time_scale=plan.time_scale,
                settings=Settings(metric_window_s=plan.rate_window_s / plan.time_scale),
            ),
            events,
        )

    def _observed(
        self, base_dir: Path, surge_dir: Path, events: list[dict[str, Any]], served: dict[str, int]
    ) -> ObservedSpike:
        """The step (first second of the surge) and the per-second p95 of both loads merged."""
        surge_cells = load_cells(surge_dir)
        if not surge_cells:
            raise SetupError(f"the surge sent no request (see {surge_dir / 'load.log'})")
        step = float(min(t for t, _ in surge_cells))
        load_end = float(max(t for t, _ in surge_cells) + 1)
        cells = load_cells(base_dir)
        for key, cell in surge_cells.items():
            cells.setdefault(key, Cell()).add(cell.hist, cell.outcomes)
        p95 = [
            (float(t), merge(cells, t_from=t, t_to=t + 1).percentile_ms(95))
            for t in range(min(t for t, _ in cells), max(t for t, _ in cells) + 1)
        ]
        return ObservedSpike(
            self.region, step, events, p95, served_requests=served, load_end_t_wall=load_end
        )

    def run_spike(self, plan: LocalSpikePlan) -> ObservedSpike:
        spec = self.spike_spec()
        self.set_replicas(spec.min_replicas)
        run_dir = self._run_dir("spike", "autoscaler")
        events = EventLog(events_file(run_dir))
        load_events = EventLog(events_file(run_dir), source="load")
        daemon = self._spike_daemon(spec, plan, events)
        sentences = logging.FileHandler(run_dir / "autoscaler.log")
        sentences.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger = logging.getLogger("gameday.autoscaler")
        logger.addHandler(sentences)
        logger.setLevel(logging.INFO)
        s = plan.spike
        before = self.served()
        runner = threading.Thread(target=daemon.run, name="autoscaler", daemon=True)
        base_dir, surge_dir = run_dir / "load-baseline", run_dir / "load-surge"
        handles: list[ProcessHandle] = []
        served: dict[str, int] = {}
        try:
            load_events.record("load.step", rate=s.baseline_rps)
            handles.append(self._load(base_dir, s.baseline_rps, s.duration_s))
            runner.start()
            time.sleep(s.at_s)  # the plan's schedule, not a wait on a condition
            load_events.record("load.step", rate=s.peak_rps)
            surge = self._load(surge_dir, s.peak_rps - s.baseline_rps, s.hold_s)
            handles.append(surge)
            surge.wait(timeout=s.hold_s + 90)
            after = self.served()
            served = {n: c - before.get(n, 0) for n, c in after.items()}
            load_events.record("load.step", rate=s.baseline_rps, served_requests=served)
            handles[0].wait(timeout=s.duration_s + 90)
        finally:
            for h in handles:
                h.stop()
            daemon.request_stop()
            runner.join(timeout=60)
            daemon.close()
            logger.removeHandler(sentences)
            sentences.close()
        return self._observed(base_dir, surge_dir, list(events.recorded), served)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._on_close is None and self.stack.replicas(self.region) != self.initial:
                self.stack.scale(self.region, self.initial)
        finally:
            self.scaler.close()
            if self._on_close is not None:
                self._on_close()


def build(profile: str = "ci", out_dir: str = "runs/capacity", **opts: str) -> RealStackTarget:
    """Factory for `gameday capacity --target gameday.capacity.local_target:build` (the default)."""
    state_dir = opts.pop("state_dir", None)
    topology = opts.pop("topology", None)
    kwargs: dict[str, Any] = dict(opts)
    if "processes" in kwargs:
        kwargs["processes"] = int(kwargs["processes"])
    if topology is None:
        return RealStackTarget(Stack.open(state_dir), out_dir, **kwargs)
    from stack.topology import load_topology
    from stack.up import bring_up, tear_down

    loaded = load_topology(topology)
    if state_dir is None:
        state_dir = tempfile.mkdtemp(prefix="gameday-capacity-", dir="/var/tmp")
        Path(state_dir).chmod(0o755)  # PostgreSQL runs as the postgres user
    state = Path(state_dir)
    bring_up(loaded.topology, loaded.source, state, progress=print, deadline_s=180)
    try:
        return RealStackTarget(
            Stack.open(state), out_dir, on_close=lambda: tear_down(loaded.topology, state), **kwargs
        )
    except BaseException:
        tear_down(loaded.topology, state)
        raise

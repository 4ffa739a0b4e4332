"""A real-process testbed for the autoscaler and `gameday capacity`, on 127.0.4.0/24.

Stand-in replicas (benchmarks/hpa_replica.py: real processes, real CPU, prometheus-client
metrics), a real Prometheus scraping them through file_sd (1 s), the open-model generator
(benchmarks/openload.py) balancing over ready replicas, and the real daemon
(stack/autoscaler) scaling them through this module's process Scaler. It implements the
Scaler, CapacityTarget and SpikeTarget interfaces, so it runs the whole chain until the lead
wires the real stack:

    PYTHONPATH=benchmarks gameday capacity --profile ci --target hpa_testbed:build --out runs/cap

Figures measured here are the stand-in's, not the reference API's (no database or cache).
"""

from __future__ import annotations

import atexit
import dataclasses
import http.client
import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml
from openload import OpenLoad  # type: ignore[import-not-found]

from autoscaler.algorithm import Settings
from autoscaler.daemon import Autoscaler, DaemonConfig
from autoscaler.events import EventLog
from autoscaler.prometheus import PrometheusMetrics, PrometheusSettings
from autoscaler.spec import load_hpa
from bedrock.runfolder.events import path_of as events_file
from gameday.capacity.run import LocalSpikePlan, ObservedSpike, StepFigures

HERE = Path(__file__).resolve().parent
REGION = "primary"


def _healthy(host: str, port: int) -> bool:
    try:
        conn = http.client.HTTPConnection(host, port, timeout=0.3)
        conn.request("GET", "/health")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


class Testbed:
    def __init__(
        self,
        out_dir: str,
        *,
        host: str = "127.0.4.1",
        base_port: int = 18100,
        prometheus_port: int = 19090,
        work_ms: float = 1.0,
        startup_delay_s: float = 1.0,
        max_replicas: int = 8,
        hpa: str = "manifests/k8s/base/hpa.yaml",
    ) -> None:
        self.out = Path(out_dir).resolve()  # Prometheus resolves file_sd paths from its config
        self.state = self.out / "testbed"
        self.state.mkdir(parents=True, exist_ok=True)
        self.host, self.base_port = host, base_port
        self.work_ms, self.startup_delay_s = work_ms, startup_delay_s
        self.max_replicas = max_replicas
        self.hpa = hpa
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.started_at: dict[int, float] = {}
        self.ready: set[int] = set()
        self.ready_at: dict[int, float] = {}
        self._lock = threading.RLock()
        self._stop = False
        self.prometheus_url = f"http://{host}:{prometheus_port}"
        self._write_targets()
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
            "scrape_configs": [
                {
                    "job_name": "api",
                    "file_sd_configs": [
                        {"files": [str(self.state / "api.json")], "refresh_interval": "1s"}
                    ],
                }
            ],
        }
        (self.state / "prometheus.yml").write_text(yaml.safe_dump(config))
        self._prom_log = (self.state / "prometheus.log").open("w")
        self.prometheus = subprocess.Popen(
            [
                "/usr/bin/prometheus",
                f"--config.file={self.state / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.state / 'prometheus-data'}",
                f"--web.listen-address={host}:{prometheus_port}",
                "--log.level=warn",
            ],
            stdout=self._prom_log,
            stderr=subprocess.STDOUT,
        )
        atexit.register(self.close)
        self._poller = threading.Thread(target=self._poll, name="readiness", daemon=True)
        self._poller.start()
        self.load = OpenLoad(self.ready_endpoints)
        self.load.start()

    # -- Scaler ----------------------------------------------------------------------------

    def _name(self, i: int) -> str:
        return f"api-{REGION}-{i}"

    def _write_targets(self) -> None:
        groups = [
            {
                "targets": [f"{self.host}:{self.base_port + i}"],
                "labels": {"region": REGION, "replica": self._name(i)},
            }
            for i in sorted(self.procs)
        ]
        tmp = self.state / "api.json.tmp"
        tmp.write_text(json.dumps(groups))
        tmp.replace(self.state / "api.json")

    def scale(self, region: str, replicas: int) -> None:
        with self._lock:
            for i in range(replicas):
                if i not in self.procs:
                    log = (self.state / f"{self._name(i)}.log").open("ab")
                    self.procs[i] = subprocess.Popen(
                        [
                            sys.executable,
                            str(HERE / "hpa_replica.py"),
                            "--host",
                            self.host,
                            "--port",
                            str(self.base_port + i),
                            "--name",
                            self._name(i),
                            "--work-ms",
                            str(self.work_ms),
                            "--startup-delay",
                            str(self.startup_delay_s),
                        ],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                    self.started_at[i] = time.monotonic()
            for i in sorted(self.procs, reverse=True):
                if i >= replicas:
                    self.ready.discard(i)
                    proc = self.procs.pop(i)
                    proc.terminate()
                    try:
                        proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(timeout=5)
            self._write_targets()

    def replicas(self, region: str) -> int:
        with self._lock:
            return len(self.procs)

    def ready_replicas(self, region: str) -> int:
        with self._lock:
            return len(self.ready)

    def replica_states(self, region: str) -> dict[str, bool]:
        with self._lock:
            return {self._name(i): i in self.ready for i in self.procs}

    def ready_endpoints(self) -> list[tuple[str, int]]:
        with self._lock:
            return [(self.host, self.base_port + i) for i in sorted(self.ready)]

    def _poll(self) -> None:
        while not self._stop:
            with self._lock:
                candidates = [(i, p) for i, p in self.procs.items() if i not in self.ready]
            for i, proc in candidates:
                if proc.poll() is None and _healthy(self.host, self.base_port + i):
                    with self._lock:
                        if i in self.procs:
                            self.ready.add(i)
                            self.ready_at[i] = time.monotonic()
            time.sleep(0.05)

    def _wait_ready(self, n: int, deadline_s: float = 60.0) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.ready_replicas(REGION) == n == self.replicas(REGION):
                return
            time.sleep(0.05)
        raise TimeoutError(f"{n} replicas not ready in {deadline_s} s")

    # -- CapacityTarget ----------------------------------------------------------------------

    def set_replicas(self, replicas: int) -> None:
        self.scale(REGION, replicas)
        self._wait_ready(replicas)

    def load_step(self, rate_rps: float, duration_s: float) -> StepFigures:
        self.load.set_rate(rate_rps)
        time.sleep(1.0)  # let the rate settle; measured seconds start after
        start = time.time()
        time.sleep(duration_s)
        end = time.time()
        self.load.set_rate(0)
        hist, ok, errors = self.load.window(float(int(start) + 1), float(int(end)))
        seconds = max(1, int(end) - int(start) - 1)
        total = ok + errors
        time.sleep(1.0)  # drain
        return StepFigures(
            achieved_rps=ok / seconds,
            p95_ms=hist.get_value_at_percentile(95) / 1000.0 if ok else None,
            error_rate=errors / total if total else None,
        )

    def measure_startup(self, times: int = 3) -> list[float]:
        base = self.replicas(REGION)
        out = []
        for _ in range(times):
            self.scale(REGION, base + 1)
            self._wait_ready(base + 1)
            out.append(self.ready_at[base] - self.started_at[base])
            self.scale(REGION, base)
        return out

    # -- SpikeTarget -------------------------------------------------------------------------

    def run_spike(self, plan: LocalSpikePlan) -> ObservedSpike:
        spec = load_hpa(self.hpa)
        spec = dataclasses.replace(spec, max_replicas=min(spec.max_replicas, self.max_replicas))
        self.set_replicas(spec.min_replicas)
        events = EventLog(events_file(self.out))
        daemon = Autoscaler(
            spec,
            self,
            PrometheusMetrics(
                PrometheusSettings(url=self.prometheus_url, rate_window_s=int(plan.rate_window_s))
            ),
            DaemonConfig(
                (REGION,),
                period_s=plan.period_s,
                watch_interval_s=0.1,
                time_scale=plan.time_scale,
                settings=Settings(metric_window_s=plan.rate_window_s / plan.time_scale),
            ),
            events,
        )
        sentences = logging.FileHandler(self.out / "autoscaler.log")
        sentences.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger = logging.getLogger("gameday.autoscaler")
        logger.addHandler(sentences)
        logger.setLevel(logging.INFO)
        runner = threading.Thread(target=daemon.run, name="autoscaler", daemon=True)
        s = plan.spike
        start = time.time()
        self.load.set_rate(s.baseline_rps)
        runner.start()
        time.sleep(s.at_s)
        load_events = EventLog(events_file(self.out), source="load")
        load_events.record("load.step", rate=s.peak_rps)
        step = time.time()
        self.load.set_rate(s.peak_rps)
        time.sleep(s.hold_s)
        load_events.record("load.step", rate=s.baseline_rps)
        self.load.set_rate(s.baseline_rps)
        time.sleep(s.after_s)
        daemon.request_stop()
        runner.join(timeout=30)
        daemon.close()
        logger.removeHandler(sentences)
        sentences.close()
        self.load.set_rate(0)
        end = time.time()
        return ObservedSpike(REGION, step, list(events.recorded), self.load.p95_series(start, end))

    def close(self) -> None:
        if self._stop:
            return
        self._stop = True
        self.load.stop()
        self.scale(REGION, 0)
        self.prometheus.terminate()
        try:
            self.prometheus.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.prometheus.kill()
            self.prometheus.wait(timeout=5)
        self._prom_log.close()


def build(profile: str = "ci", out_dir: str = "runs/capacity", **opts: str) -> Testbed:
    kwargs = {
        k: (
            float(v)
            if k in ("work_ms", "startup_delay_s")
            else int(v)
            if k.endswith(("port", "replicas"))
            else v
        )
        for k, v in opts.items()
    }
    return Testbed(out_dir, **kwargs)  # type: ignore[arg-type]

"""Live view of a run: progress lines for the operator, stack-change events, and the safeguard.

A background thread polls every `period_s`: Prometheus (edge req/s, API p95, edge
5xx share), the stack (edge's active region, replicas, database leader), and the
tail of probes.jsonl. It records `db.leader_changed` / `edge.switched` /
`replicas.changed` events as it sees them, prints one progress line, and trips
the safeguard when the entry point has failed every probe for `max_outage_s`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bedrock.prometheus import Prometheus, PrometheusUnavailable, scalar
from bedrock.runfolder import probes
from bedrock.runfolder.events import record_event
from gameday.live import hub as live
from gameday.targets import Target


def _prom(prom: Prometheus, query: str) -> float | None:
    """A live figure, or None (no data, NaN, or Prometheus not answering: the line shows '-')."""
    try:
        return scalar(prom.instant(query))
    except PrometheusUnavailable:
        return None


class ProbeTail:
    """Reads probes.jsonl incrementally; tracks how long the entry point has failed every probe."""

    def __init__(self, run_dir: Path) -> None:
        self.lines = probes.tail(run_dir)
        self.failing_since: float | None = None
        self.last_ok: float | None = None
        self.ok = 0
        self.failed = 0

    def poll(self) -> None:
        for probe in self.lines.lines():
            t_mono = probe.get("t_mono", 0.0)
            t = float(t_mono) if type(t_mono) in (int, float) else 0.0
            if probe.get("outcome") == "ok":
                self.ok += 1
                self.last_ok = t
                self.failing_since = None
            else:
                self.failed += 1
                if self.failing_since is None:
                    self.failing_since = t

    def outage_s(self, now_mono: float) -> float:
        return 0.0 if self.failing_since is None else now_mono - self.failing_since


class Monitor:
    def __init__(
        self,
        target: Target,
        run_dir: Path,
        max_outage_s: float,
        on_trip: Callable[[str], None],
        period_s: float = 2.0,
        printer: Callable[[str], None] = print,
        probe_rate_rps: float = 1.0,
    ) -> None:
        self.target = target
        self.run_dir = run_dir
        self.max_outage_s = max_outage_s
        self.on_trip = on_trip
        self.period_s = period_s
        self.printer = printer
        self.probe_rate_rps = max(probe_rate_rps, 1e-3)  # failed probes -> seconds of outage
        self.phase = "starting"
        self.guard_armed = False
        self.tripped: str | None = None
        self.probes = ProbeTail(run_dir)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="monitor", daemon=True)
        self._started = time.monotonic()
        self._last: dict[str, Any] = {}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        live.phase(phase)

    def _observe_stack(self) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        try:
            seen["edge"] = ",".join(self.target.edge_regions()) or "none"
        except Exception:  # noqa: BLE001 - a region may be down; the view goes on
            seen["edge"] = "?"
        try:
            seen["db_leader"] = self.target.db_leader() or "none"
        except Exception:  # noqa: BLE001
            seen["db_leader"] = "?"
        try:
            seen["replicas"] = {r: self.target.desired_replicas(r) for r in self.target.regions}
        except Exception:  # noqa: BLE001
            seen["replicas"] = {}
        return seen

    def _record_changes(self, seen: dict[str, Any]) -> None:
        kinds = {
            "edge": "edge.switched",
            "db_leader": "db.leader_changed",
            "replicas": "replicas.changed",
        }
        for key, kind in kinds.items():
            old = self._last.get(key)
            new = seen.get(key)
            if old is not None and new != old and new not in ("?",) and old != "?":
                record_event(self.run_dir, kind, "monitor", old=old, new=new)
            if new != "?":
                self._last[key] = new

    def _loop(self) -> None:
        with Prometheus(self.target.prometheus_url, timeout_s=1.0) as prom:
            while not self._stop.wait(self.period_s):
                self.tick(prom)

    def tick(self, prom: Prometheus) -> None:
        self.probes.poll()
        seen = self._observe_stack()
        self._record_changes(seen)
        rps = _prom(prom, 'sum(rate(haproxy_frontend_http_requests_total{proxy="fe_edge"}[10s]))')
        p95 = _prom(
            prom,
            "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[10s])))",
        )
        err = _prom(
            prom,
            'sum(rate(haproxy_frontend_http_responses_total{proxy="fe_edge",code="5xx"}[10s])) / '
            'sum(rate(haproxy_frontend_http_responses_total{proxy="fe_edge"}[10s]))',
        )
        outage = self.probes.outage_s(time.monotonic())
        replicas = " ".join(f"{r}={n}" for r, n in seen.get("replicas", {}).items())
        line = (
            f"[{time.monotonic() - self._started:6.1f}s] {self.phase:<9} "
            f"{'-' if rps is None else f'{rps:.0f}':>5} req/s  "
            f"p95 {'-' if p95 is None else f'{p95 * 1000:.0f} ms':>7}  "
            f"5xx {'-' if err is None else f'{err * 100:.1f}%':>6}  "
            f"probes ok {self.probes.ok} failed {self.probes.failed}"
            f"{f' (down {outage:.0f}s)' if outage else ''}  "
            f"edge {seen.get('edge')}  db {seen.get('db_leader')}  replicas {replicas}"
        )
        self.printer(line)
        live.tick(
            {
                "rps": rps,
                "p95_s": p95,
                "err": err,
                "probes_ok": self.probes.ok,
                "probes_failed": self.probes.failed,
                "outage_s": outage,
                "outage_total_s": self.probes.failed / self.probe_rate_rps,
                **seen,
            }
        )
        if self.guard_armed and self.tripped is None and outage > self.max_outage_s:
            self.tripped = (
                f"entry point failed every probe for {outage:.0f} s (cap {self.max_outage_s:.0f} s)"
            )
            record_event(self.run_dir, "abort", "safeguard", reason=self.tripped)
            self.on_trip(self.tripped)

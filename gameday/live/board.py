"""What the live page shows: one thread-safe snapshot, versioned, fed by the run's monitor.

Every tick adds a point to the timeline (req/s, p95, 5xx share, probes) and reads the
new lines of the run's events.jsonl (fault, leader change, edge switch, abort...), so the
failover phases appear as they happen. Acknowledged writes are counted from the ledger
as it grows; lost writes are known only after the read-back (the final state shows them).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from bedrock.errors import GamedayError
from bedrock.runfolder import events, ledger, reports
from bedrock.runfolder.jsonl import Tail

# The availability SLO's defaults (slo/spec.py): 99.95 % over 30 days.
BUDGET_S = (1.0 - 0.9995) * 30 * 86400.0
MAX_POINTS = 1800
SHOWN_EVENTS = {
    "phase",
    "fault.injected",
    "fault.started",
    "fault.ended",
    "db.leader_changed",
    "edge.switched",
    "replicas.changed",
    "abort",
    "chaos.ended",
    "stack.restored",
    "run.ended",
}


class LiveBoard:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.version = 0
        self.state: dict[str, Any] = {"status": "waiting", "runs": []}
        self._events: Tail | None = None
        self._ledger: Tail | None = None
        self._t0 = time.monotonic()

    def snapshot(self) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return self.version, json.loads(json.dumps(self.state, default=str))

    def wait_newer(self, version: int, timeout_s: float) -> int:
        with self._lock:
            self._lock.wait_for(lambda: self.version > version, timeout_s)
            return self.version

    def _changed(self) -> None:
        self.version += 1
        self._lock.notify_all()

    def run_started(self, run_dir: Path, name: str, planned_s: float) -> None:
        with self._lock:
            self._t0 = time.monotonic()
            self._events = events.tail(run_dir)
            self._ledger = ledger.tail(run_dir)
            self.state.update(
                status="running",
                run=name,
                run_dir=str(run_dir),
                phase="starting",
                planned_s=planned_s,
                elapsed_s=0.0,
                timeline=[],
                events=[],
                writes_acked=0,
                writes_lost=None,
                budget_used_pct=0.0,
                outage_s=0.0,
                aborted=None,
                verdict=None,
                figures={},
            )
            self._changed()

    def set_phase(self, name: str) -> None:
        with self._lock:
            self.state["phase"] = name
            self._changed()

    def _read_files(self) -> None:
        if self._events is not None:
            for ev in self._events.lines():
                kind = str(ev.get("kind", ""))
                if kind in SHOWN_EVENTS or kind.startswith(("fault", "failover")):
                    t = float(ev.get("t_mono", time.monotonic())) - self._t0
                    self.state["events"].append(
                        {"t": round(t, 1), "kind": kind, "detail": ev.get("detail", {})}
                    )
                if kind == "abort":
                    self.state["aborted"] = (ev.get("detail") or {}).get("reason", "aborted")
        if self._ledger is not None:
            acked = sum(1 for w in self._ledger.lines() if w.get("t_ack") is not None)
            self.state["writes_acked"] += acked

    def tick(self, figures: dict[str, Any]) -> None:
        """One monitor tick: req/s, p95 (s), 5xx share, probes, edge, leader, replicas."""
        with self._lock:
            if self.state.get("status") != "running":
                return
            elapsed = time.monotonic() - self._t0
            self._read_files()
            outage = float(figures.get("outage_total_s") or 0.0)
            self.state.update(
                elapsed_s=round(elapsed, 1),
                figures=figures,
                outage_s=round(outage, 1),
                budget_used_pct=round(100.0 * outage / BUDGET_S, 3),
            )
            p95 = figures.get("p95_s")
            point = {
                "t": round(elapsed, 1),
                "rps": figures.get("rps"),
                "p95_ms": None if p95 is None else round(p95 * 1000.0, 1),
                "err_pct": None if figures.get("err") is None else round(figures["err"] * 100, 2),
                "probes_failed": figures.get("probes_failed"),
            }
            timeline = self.state["timeline"]
            timeline.append(point)
            del timeline[:-MAX_POINTS]
            self._changed()

    def run_finished(
        self, word: str, summary: str, aborted: str | None, report: Path | None
    ) -> None:
        with self._lock:
            self._read_files()
            lost = _lost_writes(Path(self.state.get("run_dir", "."))) if report else None
            verdict = {"word": word, "summary": summary, "report": str(report) if report else None}
            self.state.update(
                status="finished", phase="finished", verdict=verdict, writes_lost=lost
            )
            if aborted:
                self.state["aborted"] = aborted
            self.state["runs"].append({"run": self.state.get("run"), **verdict})
            self._changed()


def _lost_writes(run_dir: Path) -> int | None:
    try:
        results = reports.read_results(run_dir)
        data = (results.get("measurements") or {}).get("data") or {}
        lost = data.get("lost")
        return int(lost) if lost is not None else None
    except (GamedayError, TypeError, ValueError, AttributeError):
        return None

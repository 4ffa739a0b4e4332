"""Synthetic run folders with known truth, for the slo tests and the benchmark.

`write_run(path, **knobs)` writes run.json, probes.jsonl, events.jsonl,
ledger.jsonl, readback.json and requests/*.jsonl through the run folder's one writer per
file (`bedrock.runfolder`), as docs/run-folder.md defines them, and returns a `Truth` with the
numbers a correct measurement must find (outage length, lost sequences, RPO, the raw latency
samples per phase). The pieces (`write_run_record`, `event`, `probe_rows`, `ledger_row`) are
what benchmarks/bench_slo.py writes its hour-long run with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bedrock.histograms import encode, new_histogram
from bedrock.runfolder import events as events_file
from bedrock.runfolder import ledger as ledger_file
from bedrock.runfolder import probes as probes_file
from bedrock.runfolder import readback as readback_file
from bedrock.runfolder import run as run_record
from bedrock.runfolder.requests import RequestsWriter

T0_WALL = 1_764_316_800.0
T0_MONO = 5_000.0
ENDPOINTS = ("GET /items/{id}", "POST /items", "GET /static")
PHASE_MEDIAN_US = {"baseline": 5_000, "fault": 30_000, "recovery": 10_000}


@dataclass
class Truth:
    fault_wall: float
    fault_mono: float
    outage_s: float
    write_outage_s: float
    lost_seqs: list[int] = field(default_factory=list)
    lost_after_seqs: list[int] = field(default_factory=list)
    lost_after_span_s: float = 0.0
    indeterminate_seqs: list[int] = field(default_factory=list)
    acknowledged: int = 0
    rpo_s: float = 0.0
    samples_us: dict[str, list[np.ndarray]] = field(default_factory=dict)
    scale_time_s: float | None = None

    def samples(self, phase: str) -> np.ndarray:
        parts = self.samples_us.get(phase, [])
        return np.concatenate(parts) if parts else np.array([], dtype=np.int64)


# -- the pieces (shared with benchmarks/bench_slo.py) ------------------------------


def write_run_record(
    run_dir: Path,
    *,
    name: str,
    duration_s: int,
    experiment: str | None,
    scenario: str,
    profile: str,
    expect: str,
) -> None:
    """run.json of a run that started at T0 and lasted `duration_s`."""
    run_record.write_run(
        run_dir,
        {
            "schema": "gameday.run/1",
            "name": name,
            "experiment": experiment,
            "scenario": scenario,
            "profile": profile,
            "target": "local",
            "started_wall": T0_WALL,
            "started_mono": T0_MONO,
            "ended_wall": T0_WALL + duration_s,
            "ended_mono": T0_MONO + duration_s,
            "entry_url": "http://127.0.9.1:8080",
            "prometheus_url": "http://127.0.9.1:9090",
            "regions": {
                "primary": {"url": "http://127.0.1.1:8080"},
                "secondary": {"url": "http://127.0.2.1:8080"},
            },
            "versions": {"gameday": "0.1.0"},
            "expect": expect,
        },
    )


def event(rel: float, kind: str, source: str, **detail: object) -> dict[str, Any]:
    """An events.jsonl line `rel` seconds after T0."""
    return events_file.make(kind, source, detail, (T0_WALL + rel, T0_MONO + rel))


def probe_rows(
    duration_s: int,
    hz: float,
    *,
    phase_s: float,
    fault_rel: float,
    down: Callable[[str, float], bool],
    latency_s: float,
) -> list[dict[str, Any]]:
    """A read and a write probe `hz` times a second (writes half a period later), in time
    order; `down(kind, rel)` says which failed; the region is secondary from the fault on."""
    rows = []
    for kind, offset in (("read", 0.0), ("write", 0.5 / hz)):
        for i in range(int(duration_s * hz)):
            rel = i / hz + phase_s + offset
            failed = down(kind, rel)
            rows.append(
                {
                    "t_wall": T0_WALL + rel,
                    "t_mono": T0_MONO + rel,
                    "kind": kind,
                    "latency_s": None if failed else latency_s,
                    "outcome": "conn_error" if failed else "ok",
                    "status": None if failed else 200,
                    "region": None if failed else ("primary" if rel < fault_rel else "secondary"),
                }
            )
    rows.sort(key=lambda r: r["t_mono"])
    return rows


def ledger_row(seq: int, client: str, rel: float, outcome: str) -> dict[str, Any]:
    """A ledger.jsonl line: acknowledged (201, 4 ms later), failed (503) or indeterminate."""
    row: dict[str, Any] = {
        "seq": seq,
        "client": client,
        "t_send": T0_WALL + rel,
        "t_ack": None,
        "status": None,
    }
    if outcome == "acknowledged":
        row.update(outcome=outcome, status=201, t_ack=T0_WALL + rel + 0.004)
    elif outcome == "failed":
        row.update(outcome=outcome, status=503)
    else:
        row["outcome"] = outcome
    return row


# -- write_run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """Where a synthetic run's moments fall, in seconds from T0 (math.inf: never)."""

    duration_s: int
    has_fault: bool
    fault: float  # injection
    rollback: float
    outage: float  # where the client-visible outage starts
    fault_phase: float  # the `phase` marks of the orchestration
    recovery_phase: float
    outage_s: float
    write_outage_s: float
    extra_outages: tuple[tuple[float, float], ...]

    def down(self, rel: float, length_s: float) -> bool:
        """Inside the outage (of `length_s`) or one of the extra ones."""
        return 0 <= rel - self.outage < length_s - 1e-9 or any(
            0 <= rel - at < length - 1e-9 for at, length in self.extra_outages
        )


def write_run(
    run_dir: Path,
    *,
    duration_s: int = 60,
    fault_at_s: float | None = 20.0,
    rollback_at_s: float = 40.0,
    outage_s: float = 7.3,
    outage_at_s: float | None = None,
    fault_phase_at_s: float | None = None,
    recovery_phase_at_s: float | None = None,
    extra_outages: tuple[tuple[float, float], ...] = (),
    write_outage_s: float | None = None,
    probe_hz: float = 20.0,
    probe_phase_s: float = 0.013,
    probes: bool = True,
    ledger: bool = True,
    acked_writes: int = 1000,
    write_hz: float = 20.0,
    lost: int = 42,
    lost_after_fault: int = 0,
    lost_after_at_s: float | None = None,
    failback_leader_at_s: float | None = None,
    indeterminate: int = 6,
    requests: bool = True,
    rps: int = 300,
    expect: str = "hold",
    experiment: str | None = "experiments/kill-region.yaml",
    profile: str = "ci",
    phase_events: bool = True,
    scale_events: bool = True,
    seed: int = 7,
) -> Truth:
    """Write a run folder; see the module docstring."""
    run_dir.mkdir(parents=True, exist_ok=True)
    fault = fault_at_s if fault_at_s is not None else math.inf
    # the client-visible outage starts at the fault unless placed elsewhere (outage_at_s);
    # the orchestration opens `fault` just before the experiment and `recovery` after it
    # (rollback included) ended; default: at injection / rollback
    tl = Timeline(
        duration_s=duration_s,
        has_fault=fault_at_s is not None,
        fault=fault,
        rollback=rollback_at_s,
        outage=(outage_at_s if outage_at_s is not None else fault) if fault_at_s is not None else math.inf,
        fault_phase=fault_phase_at_s if fault_phase_at_s is not None else fault,
        recovery_phase=recovery_phase_at_s if recovery_phase_at_s is not None else rollback_at_s,
        outage_s=outage_s,
        write_outage_s=outage_s if write_outage_s is None else write_outage_s,
        extra_outages=extra_outages,
    )  # fmt: skip
    truth = Truth(T0_WALL + fault, T0_MONO + fault, outage_s, tl.write_outage_s)
    write_run_record(
        run_dir, name="synthetic", duration_s=duration_s, experiment=experiment,
        scenario="progressive", profile=profile, expect=expect,
    )  # fmt: skip
    _write_events(run_dir, tl, truth, rps, failback_leader_at_s, phase_events, scale_events)
    if probes:
        lengths = {"read": tl.outage_s, "write": tl.write_outage_s}
        rows = probe_rows(
            duration_s, probe_hz, phase_s=probe_phase_s, fault_rel=tl.fault,
            down=lambda kind, rel: tl.down(rel, lengths[kind]), latency_s=0.004,
        )  # fmt: skip
        probes_file.write_probes(run_dir, rows)
    if ledger:
        plan = _LedgerPlan(acked_writes, write_hz, lost, lost_after_fault, lost_after_at_s)
        _write_ledger(run_dir, tl, truth, plan, indeterminate)
    if requests:
        _write_requests(run_dir, tl, truth, rps, phase_events, np.random.default_rng(seed))
    return truth


def _write_events(
    run_dir: Path,
    tl: Timeline,
    truth: Truth,
    rps: int,
    failback_leader_at_s: float | None,
    phase_events: bool,
    scale_events: bool,
) -> None:
    ev = event
    events = [ev(0.0, "run.started", "gameday")]
    if phase_events:
        events.append(ev(0.0, "phase", "gameday", name="baseline"))
    if scale_events:
        events += [
            ev(5.0, "load.step", "load", users=100, rate=rps),
            ev(8.0, "scale.decision", "autoscaler", region="primary", current=3, desired=5,
               reason="cpu"),
            ev(11.0, "replica.ready", "autoscaler", region="primary", replica="api-3"),
            ev(14.0, "replica.ready", "autoscaler", region="primary", replica="api-4"),
        ]  # fmt: skip
        truth.scale_time_s = 14.0 - 5.0
    if tl.has_fault:
        f = tl.fault
        events += [
            ev(f, "fault.injected", "chaos", target="region:primary"),
            ev(f + 3.0, "failover.detected", "failover"),
            ev(f + 4.0, "failover.traffic_switched", "failover", to="secondary"),
            ev(f + 6.0, "db.leader_changed", "stack", old="pg-primary", new="pg-secondary"),
            ev(f + 8.0, "failover.completed", "failover"),
            ev(tl.rollback, "fault.rolled_back", "chaos", target="region:primary"),
        ]
        if failback_leader_at_s is not None:
            events.append(
                ev(failback_leader_at_s, "db.leader_changed", "monitor", old="pg-secondary",
                   new="pg-primary")
            )  # fmt: skip
        if phase_events:
            events += [
                ev(tl.fault_phase, "phase", "gameday", name="fault"),
                ev(tl.recovery_phase, "phase", "gameday", name="recovery"),
            ]
    events.append(ev(float(tl.duration_s), "run.ended", "gameday"))
    events.sort(key=lambda e: e["t_mono"])
    events_file.write_events(run_dir, events)


@dataclass(frozen=True)
class _LedgerPlan:
    acked_writes: int
    write_hz: float
    lost: int
    lost_after_fault: int
    lost_after_at_s: float | None


def _write_ledger(
    run_dir: Path, tl: Timeline, truth: Truth, plan: _LedgerPlan, indeterminate: int
) -> None:
    rows: list[dict[str, Any]] = []
    present: list[int] = []
    seq, acked = 0, 0
    while acked < plan.acked_writes:
        seq += 1
        rel = (seq - 1) / plan.write_hz + 0.02
        if 0 <= rel - tl.outage < tl.write_outage_s:
            outcome = "failed"
            if len(truth.indeterminate_seqs) < indeterminate:
                outcome = "indeterminate"
                truth.indeterminate_seqs.append(seq)
                if len(truth.indeterminate_seqs) % 2:
                    present.append(seq)  # half of them landed after all
        else:
            outcome = "acknowledged"
            acked += 1
            present.append(seq)
        rows.append(ledger_row(seq, "run-synth", rel, outcome))
    truth.acknowledged = acked
    acks = [r for r in rows if r["outcome"] == "acknowledged"]
    if tl.has_fault and plan.lost:
        gone = [r for r in acks if r["t_ack"] < truth.fault_wall][-plan.lost :]
        truth.lost_seqs = [r["seq"] for r in gone]
        truth.rpo_s = truth.fault_wall - gone[0]["t_ack"]  # DESIGN.md: the span, to the fault
        present = [s for s in present if s not in set(truth.lost_seqs)]
    if tl.has_fault and plan.lost_after_fault:
        # a later leader change discarded writes acked after the fault (DESIGN.md)
        after = plan.lost_after_at_s if plan.lost_after_at_s is not None else tl.fault + 10.0
        gone = [r for r in acks if r["t_ack"] >= T0_WALL + after][: plan.lost_after_fault]
        truth.lost_after_seqs = [r["seq"] for r in gone]
        truth.lost_after_span_s = gone[-1]["t_ack"] - gone[0]["t_ack"]
        present = [s for s in present if s not in set(truth.lost_after_seqs)]
    ledger_file.write_ledger(run_dir, rows)
    readback_file.write_readback(
        run_dir, "run-synth", present, "postgresql leader pg-secondary",
        t_wall=T0_WALL + tl.duration_s,
    )  # fmt: skip


def _phase(tl: Timeline, mid: float, phase_events: bool) -> str:
    """The phase second `mid` falls in: by the phase marks, or by injection and rollback."""
    fault, recovery = (
        (tl.fault_phase, tl.recovery_phase) if phase_events else (tl.fault, tl.rollback)
    )
    return "baseline" if mid < fault else ("fault" if mid < recovery else "recovery")


def _write_requests(
    run_dir: Path, tl: Timeline, truth: Truth, rps: int, phase_events: bool, rng: Any
) -> None:
    files: dict[str, list[dict[str, Any]]] = {"w1": [], "w2": []}
    per_ep = rps // len(ENDPOINTS)
    outages = ([(tl.outage, tl.outage_s)] if tl.has_fault else []) + list(tl.extra_outages)
    for s in range(tl.duration_s):
        phase = _phase(tl, s + 0.5, phase_events)
        overlap = sum(max(0.0, min(s + 1, at + n) - max(s, at)) for at, n in outages)
        for ep in ENDPOINTS:
            median = math.log(PHASE_MEDIAN_US[phase])
            values = rng.lognormal(median, 0.5, per_ep).astype(np.int64) + 1
            truth.samples_us.setdefault(phase, []).append(values)
            n_err = round(per_ep * overlap)
            for w, part in zip(files, np.array_split(values, 2), strict=True):
                h = new_histogram()
                for v in part:
                    h.record_value(int(v))
                errs = n_err // 2 if w == "w1" else n_err - n_err // 2
                outcomes = {"ok": len(part) - errs, "conn_error": errs, "timeout": 0}
                files[w].append(
                    {"t": int(T0_WALL) + s, "endpoint": ep, "hist": encode(h), "outcomes": outcomes}
                )
    for w, rows in files.items():
        RequestsWriter(run_dir, w).write(rows, compact=False)

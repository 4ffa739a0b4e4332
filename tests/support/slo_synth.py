"""Synthetic run folders with known truth, for the slo tests and benchmark.

`write_run(path, **knobs)` writes run.json, probes.jsonl, events.jsonl,
ledger.jsonl, readback.json and requests/*.jsonl through the run folder's one writer per
file (`bedrock.runfolder`), as docs/run-folder.md defines them, and returns a `Truth` with the numbers a correct measurement must
find (outage length, lost sequences, RPO, the raw latency samples per phase).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

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
    rng = np.random.default_rng(seed)
    write_outage_s = outage_s if write_outage_s is None else write_outage_s
    has_fault = fault_at_s is not None
    fault_rel = fault_at_s if fault_at_s is not None else math.inf
    truth = Truth(T0_WALL + fault_rel, T0_MONO + fault_rel, outage_s, write_outage_s)
    # the client-visible outage starts at the fault unless placed elsewhere (outage_at_s)
    outage_rel = (outage_at_s if outage_at_s is not None else fault_rel) if has_fault else math.inf
    # phase marks: the orchestration opens `fault` just before the experiment and
    # `recovery` after it (rollback included) ended; default: at injection / rollback
    fault_phase_rel = fault_phase_at_s if fault_phase_at_s is not None else fault_rel
    recovery_rel = recovery_phase_at_s if recovery_phase_at_s is not None else rollback_at_s

    run_record.write_run(
        run_dir,
        {
            "schema": "gameday.run/1",
            "name": "synthetic",
            "experiment": experiment,
            "scenario": "progressive",
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

    def ev(rel: float, kind: str, source: str, **detail: object) -> dict:
        return {
            "t_wall": T0_WALL + rel,
            "t_mono": T0_MONO + rel,
            "kind": kind,
            "source": source,
            "detail": detail,
        }

    events = [ev(0.0, "run.started", "gameday")]
    if phase_events:
        events.append(ev(0.0, "phase", "gameday", name="baseline"))
    if scale_events:
        events += [
            ev(5.0, "load.step", "load", users=100, rate=rps),
            ev(
                8.0,
                "scale.decision",
                "autoscaler",
                region="primary",
                current=3,
                desired=5,
                reason="cpu",
            ),
            ev(11.0, "replica.ready", "autoscaler", region="primary", replica="api-3"),
            ev(14.0, "replica.ready", "autoscaler", region="primary", replica="api-4"),
        ]
        truth.scale_time_s = 14.0 - 5.0
    if has_fault:
        f = fault_rel
        events += [
            ev(f, "fault.injected", "chaos", target="region:primary"),
            ev(f + 3.0, "failover.detected", "failover"),
            ev(f + 4.0, "failover.traffic_switched", "failover", to="secondary"),
            ev(f + 6.0, "db.leader_changed", "stack", old="pg-primary", new="pg-secondary"),
            ev(f + 8.0, "failover.completed", "failover"),
            ev(rollback_at_s, "fault.rolled_back", "chaos", target="region:primary"),
        ]
        if failback_leader_at_s is not None:
            events.append(
                ev(
                    failback_leader_at_s,
                    "db.leader_changed",
                    "monitor",
                    old="pg-secondary",
                    new="pg-primary",
                )
            )
        if phase_events:
            events += [
                ev(fault_phase_rel, "phase", "gameday", name="fault"),
                ev(recovery_rel, "phase", "gameday", name="recovery"),
            ]
    events.append(ev(float(duration_s), "run.ended", "gameday"))
    events.sort(key=lambda e: e["t_mono"])
    events_file.write_events(run_dir, events)

    if probes:
        rows = []
        n = int(duration_s * probe_hz)
        for kind, offset, down_s in (
            ("read", 0.0, outage_s),
            ("write", 0.5 / probe_hz, write_outage_s),
        ):
            for i in range(n):
                rel = i / probe_hz + probe_phase_s + offset
                since = rel - outage_rel
                down = 0 <= since < down_s - 1e-9 or any(
                    0 <= rel - at < length - 1e-9 for at, length in extra_outages
                )
                region = "primary" if rel < fault_rel else "secondary"
                rows.append(
                    {
                        "t_wall": T0_WALL + rel,
                        "t_mono": T0_MONO + rel,
                        "kind": kind,
                        "latency_s": None if down else 0.004,
                        "outcome": "conn_error" if down else "ok",
                        "status": None if down else 200,
                        "region": None if down else region,
                    }
                )
        rows.sort(key=lambda r: r["t_mono"])
        probes_file.write_probes(run_dir, rows)

    if ledger:
        rows, present = [], []
        seq, acked = 0, 0
        while acked < acked_writes:
            seq += 1
            rel = (seq - 1) / write_hz + 0.02
            since = rel - outage_rel
            row = {
                "seq": seq,
                "client": "run-synth",
                "t_send": T0_WALL + rel,
                "t_ack": None,
                "status": None,
            }
            if 0 <= since < write_outage_s:
                if len(truth.indeterminate_seqs) < indeterminate:
                    row["outcome"] = "indeterminate"
                    truth.indeterminate_seqs.append(seq)
                    if len(truth.indeterminate_seqs) % 2:
                        present.append(seq)  # half of them landed after all
                else:
                    row.update(outcome="failed", status=503)
            else:
                row.update(outcome="acknowledged", status=201, t_ack=T0_WALL + rel + 0.004)
                acked += 1
                present.append(seq)
            rows.append(row)
        truth.acknowledged = acked
        if has_fault and lost:
            before = [
                r for r in rows if r["outcome"] == "acknowledged" and r["t_ack"] < truth.fault_wall
            ]
            gone = before[-lost:]
            truth.lost_seqs = [r["seq"] for r in gone]
            truth.rpo_s = truth.fault_wall - gone[0]["t_ack"]  # DESIGN.md: the span, to the fault
            present = [s for s in present if s not in set(truth.lost_seqs)]
        if has_fault and lost_after_fault:
            # a later leader change discarded writes acked after the fault (DESIGN.md)
            at = T0_WALL + (lost_after_at_s if lost_after_at_s is not None else fault_rel + 10.0)
            later = [r for r in rows if r["outcome"] == "acknowledged" and r["t_ack"] >= at]
            gone = later[:lost_after_fault]
            truth.lost_after_seqs = [r["seq"] for r in gone]
            truth.lost_after_span_s = gone[-1]["t_ack"] - gone[0]["t_ack"]
            present = [s for s in present if s not in set(truth.lost_after_seqs)]
        ledger_file.write_ledger(run_dir, rows)
        readback_file.write_readback(
            run_dir,
            "run-synth",
            present,
            "postgresql leader pg-secondary",
            t_wall=T0_WALL + duration_s,
        )

    if requests:
        files: dict[str, list[dict]] = {"w1": [], "w2": []}
        per_ep = rps // len(ENDPOINTS)
        for s in range(duration_s):
            mid = s + 0.5
            if phase_events:
                phase = (
                    "baseline"
                    if mid < fault_phase_rel
                    else ("fault" if mid < recovery_rel else "recovery")
                )
            else:
                phase = (
                    "baseline"
                    if mid < fault_rel
                    else ("fault" if mid < rollback_at_s else "recovery")
                )
            overlap = sum(
                max(0.0, min(s + 1, at + length) - max(s, at))
                for at, length in ([(outage_rel, outage_s)] if has_fault else [])
                + list(extra_outages)
            )
            for ep in ENDPOINTS:
                values = (
                    rng.lognormal(math.log(PHASE_MEDIAN_US[phase]), 0.5, per_ep).astype(np.int64)
                    + 1
                )
                truth.samples_us.setdefault(phase, []).append(values)
                n_err = round(per_ep * overlap)
                for w, part in zip(files, np.array_split(values, 2), strict=True):
                    h = new_histogram()
                    for v in part:
                        h.record_value(int(v))
                    errs = n_err // 2 if w == "w1" else n_err - n_err // 2
                    outcomes = {"ok": len(part) - errs, "conn_error": errs, "timeout": 0}
                    files[w].append(
                        {
                            "t": int(T0_WALL) + s,
                            "endpoint": ep,
                            "hist": encode(h),
                            "outcomes": outcomes,
                        }
                    )
        for w, rows in files.items():
            RequestsWriter(run_dir, w).write(rows, compact=False)
    return truth

"""Benchmark: measure and report a synthetic 1-hour run at 5,000 req/s.

Writes a run folder (per-second HdrHistograms for 4 endpoints from 2 load
generator processes, 20 probes/s, a 20 writes/s ledger, scale and fault
events), then times `slo.evaluate` + `slo.render` in a fresh process and prints
its wall time and peak RSS. Goal: <= 10 s and <= 300 MB. Not run in CI.

    /work/venv/bin/python benchmarks/bench_slo.py [--duration 3600] [--rps 5000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENDPOINTS = ("GET /items/{id}", "POST /items", "GET /static", "GET /health")
WRITERS = ("locust-1", "locust-2")
T0_WALL, T0_MONO = 1_764_316_800.0, 10_000.0


def generate(run_dir: Path, duration_s: int, rps: int) -> None:
    """The synthetic run folder, written through the run folder's one writer per file."""
    import numpy as np

    from bedrock.histograms import encode, new_histogram
    from bedrock.runfolder import events, ledger, probes, readback, run
    from bedrock.runfolder.requests import RequestsWriter, line

    rng = np.random.default_rng(1)
    per_line = rps // (len(ENDPOINTS) * len(WRITERS))
    fault_s, outage_s, rollback_s = duration_s // 2, 20.0, duration_s // 2 + 300

    def templates(median_us: float, n: int = 48) -> list[str]:
        out = []
        for _ in range(n):
            h = new_histogram()
            for v in rng.lognormal(math.log(median_us), 0.6, per_line).astype(int) + 1:
                h.record_value(int(v))
            out.append(encode(h))
        return out

    normal, slow = templates(6_000), templates(40_000)
    run.write_run(
        run_dir,
        {
            "schema": "gameday.run/1",
            "name": "bench-1h",
            "experiment": "experiments/kill-region.yaml",
            "scenario": "endurance",
            "profile": "full",
            "target": "local",
            "started_wall": T0_WALL,
            "started_mono": T0_MONO,
            "ended_wall": T0_WALL + duration_s,
            "ended_mono": T0_MONO + duration_s,
            "regions": {"primary": {}, "secondary": {}},
            "expect": "hold",
        },
    )
    for w, writer in enumerate(WRITERS):
        rows = []
        for s in range(duration_s):
            in_fault = fault_s <= s < fault_s + 60
            down = fault_s <= s < fault_s + outage_s
            for e, ep in enumerate(ENDPOINTS):
                pool = slow if in_fault else normal
                hist = pool[(s * 7 + e * 3 + w) % len(pool)]
                outcomes = {"ok": 0 if down else per_line, "conn_error": per_line if down else 0}
                rows.append(line(int(T0_WALL) + s, ep, hist, outcomes))
        RequestsWriter(run_dir, writer).write(rows)
    probe_rows = []
    for i in range(duration_s * 10):
        for kind, off in (("read", 0.0), ("write", 0.05)):
            rel = i / 10 + off
            down = 0 <= rel - fault_s < outage_s
            region = "primary" if rel < fault_s else "secondary"
            probe_rows.append(
                {
                    "t_wall": T0_WALL + rel,
                    "t_mono": T0_MONO + rel,
                    "kind": kind,
                    "latency_s": None if down else 0.003,
                    "outcome": "conn_error" if down else "ok",
                    "status": None if down else 200,
                    "region": None if down else region,
                }
            )
    probes.write_probes(run_dir, probe_rows)
    present, ledger_rows = [], []
    for seq in range(1, duration_s * 20 + 1):
        rel = seq / 20
        down = 0 <= rel - fault_s < outage_s
        ledger_rows.append(
            {
                "seq": seq,
                "client": "run-bench",
                "t_send": T0_WALL + rel,
                "t_ack": None if down else T0_WALL + rel + 0.004,
                "outcome": "failed" if down else "acknowledged",
                "status": 503 if down else 201,
            }
        )
        if not down and not (fault_s - 2 <= rel < fault_s):
            present.append(seq)
    ledger.write_ledger(run_dir, ledger_rows)
    readback.write_readback(run_dir, "run-bench", present, "bench", t_wall=T0_WALL + duration_s)

    def ev(rel: float, kind: str, **detail: object) -> dict[str, object]:
        return events.make(kind, "bench", detail, (T0_WALL + rel, T0_MONO + rel))

    lines = [ev(0, "run.started"), ev(0, "phase", name="baseline")]
    for k, step in enumerate(range(60, fault_s - 60, 600)):
        lines += [
            ev(step, "load.step", users=100 * (k + 1), rate=rps),
            ev(step + 15, "scale.decision", region="primary", current=3 + 2 * k, desired=5 + 2 * k),
            ev(step + 40, "replica.ready", region="primary", replica=f"api-{3 + 2 * k}"),
            ev(step + 45, "replica.ready", region="primary", replica=f"api-{4 + 2 * k}"),
        ]
    lines += [
        ev(fault_s, "fault.injected", target="region:primary"),
        ev(fault_s, "phase", name="fault"),
        ev(fault_s + 3, "failover.detected"),
        ev(fault_s + 5, "failover.traffic_switched"),
        ev(fault_s + 8, "db.leader_changed", old="a", new="b"),
        ev(rollback_s, "fault.rolled_back", target="region:primary"),
        ev(rollback_s, "phase", name="recovery"),
        ev(duration_s, "run.ended"),
    ]
    events.write_events(run_dir, lines)


def measure(run_dir: Path) -> None:
    t0 = time.perf_counter()
    import slo
    import slo.evaluation
    import slo.rendering  # noqa: F401  (numpy, matplotlib: timed apart)

    t1 = time.perf_counter()
    results = slo.evaluate(run_dir)
    t2 = time.perf_counter()
    slo.render(run_dir, results)
    t3 = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_mb = usage.ru_maxrss / 1024
    cpu_s = usage.ru_utime + usage.ru_stime  # steadier than wall time on a shared machine
    print(
        json.dumps(
            {
                "import_s": t1 - t0,
                "evaluate_s": t2 - t1,
                "render_s": t3 - t2,
                "total_s": t3 - t0,
                "cpu_s": cpu_s,
                "peak_rss_mb": rss_mb,
                "verdict": results.verdict.status,
                "failover_s": results.slo("failover").value,
            }
        )
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=3600)
    ap.add_argument("--rps", type=int, default=5000)
    ap.add_argument("--keep", type=Path, help="write the run folder here and keep it")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(args.measure)
        return 0
    tmp = None
    run_dir = args.keep
    if run_dir is None:
        tmp = tempfile.mkdtemp(prefix="bench-slo-")
        run_dir = Path(tmp) / "run"
    try:
        t = time.perf_counter()
        generate(run_dir, args.duration, args.rps)
        size = sum(p.stat().st_size for p in run_dir.rglob("*") if p.is_file()) / 1e6
        print(
            f"generated {args.duration} s at {args.rps} req/s in {time.perf_counter() - t:.1f} s ({size:.0f} MB on disk)"
        )
        wall = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--measure", str(run_dir)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
        wall = time.perf_counter() - wall
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return 1
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"measure+render: {figures['total_s']:.2f} s in-process (import {figures['import_s']:.2f}, "
            f"evaluate {figures['evaluate_s']:.2f}, render {figures['render_s']:.2f}); {wall:.2f} s wall with "
            f"interpreter start; {figures['cpu_s']:.2f} s CPU; peak RSS {figures['peak_rss_mb']:.0f} MB"
        )
        print(
            f"goal <= 10 s and <= 300 MB: {'MET' if wall <= 10 and figures['peak_rss_mb'] <= 300 else 'MISSED'}"
            f" (verdict {figures['verdict']}, failover {figures['failover_s']:.2f} s)"
        )
        return 0
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

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


def generate(run_dir: Path, duration_s: int, rps: int) -> None:
    """The synthetic run folder, written with tests/support/slo_synth.py's pieces through the
    run folder's one writer per file (histograms from a few templates: an hour of samples
    would take longer to record than to measure)."""
    import numpy as np

    from bedrock.histograms import encode, new_histogram
    from bedrock.runfolder import events, ledger, probes, readback
    from bedrock.runfolder.requests import RequestsWriter, line
    from tests.support.slo_synth import T0_WALL, ledger_row, probe_rows, write_run_record

    rng = np.random.default_rng(1)
    per_line = rps // (len(ENDPOINTS) * len(WRITERS))
    fault_s, outage_s, rollback_s = duration_s // 2, 20.0, duration_s // 2 + 300

    def down(rel: float) -> bool:
        return 0 <= rel - fault_s < outage_s

    def templates(median_us: float, n: int = 48) -> list[str]:
        out = []
        for _ in range(n):
            h = new_histogram()
            for v in rng.lognormal(math.log(median_us), 0.6, per_line).astype(int) + 1:
                h.record_value(int(v))
            out.append(encode(h))
        return out

    normal, slow = templates(6_000), templates(40_000)
    write_run_record(
        run_dir, name="bench-1h", duration_s=duration_s, experiment="experiments/kill-region.yaml",
        scenario="endurance", profile="full", expect="hold",
    )  # fmt: skip
    for w, writer in enumerate(WRITERS):
        rows = []
        for s in range(duration_s):
            pool = slow if fault_s <= s < fault_s + 60 else normal
            for e, ep in enumerate(ENDPOINTS):
                hist = pool[(s * 7 + e * 3 + w) % len(pool)]
                outcomes = {
                    "ok": 0 if down(s) else per_line,
                    "conn_error": per_line if down(s) else 0,
                }
                rows.append(line(int(T0_WALL) + s, ep, hist, outcomes))
        RequestsWriter(run_dir, writer).write(rows)
    probes.write_probes(
        run_dir,
        probe_rows(duration_s, 10.0, phase_s=0.0, fault_rel=fault_s,
                   down=lambda _kind, rel: down(rel), latency_s=0.003),
    )  # fmt: skip
    present, ledger_rows = [], []
    for seq in range(1, duration_s * 20 + 1):
        rel = seq / 20
        ledger_rows.append(
            ledger_row(seq, "run-bench", rel, "failed" if down(rel) else "acknowledged")
        )
        if not down(rel) and not (fault_s - 2 <= rel < fault_s):
            present.append(seq)
    ledger.write_ledger(run_dir, ledger_rows)
    readback.write_readback(run_dir, "run-bench", present, "bench", t_wall=T0_WALL + duration_s)

    events.write_events(run_dir, _events(duration_s, rps, fault_s, rollback_s))


def _events(duration_s: int, rps: int, fault_s: int, rollback_s: int) -> list[dict[str, object]]:
    """A load step every 10 minutes with its scale-up, then the region fault and failover."""
    from tests.support.slo_synth import event

    def ev(rel: float, kind: str, **detail: object) -> dict[str, object]:
        return event(rel, kind, "bench", **detail)

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
    return lines


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

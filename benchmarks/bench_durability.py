"""Benchmark: acknowledged writes lost, failover and RTO over repeated region faults.

Runs N `gameday run EXPERIMENT --load constant --profile ci` per experiment on an
already running stack (`gameday up --topology T`), alternating experiments so a
cut-short benchmark stays balanced. Per run it prints acknowledged / lost by
DATABASE TRUTH / the suite's own lost count / failover / RTO / promotion, and
medians at the end.

Database truth is independent of the suite: after the run has rolled back, wait
until Patroni reports a running leader and every other member streaming, then
read `SELECT seq FROM ledger WHERE client = <run>` on the leader by SQL and
compare it with every `acknowledged` line of the run's `ledger.jsonl`.

    .venv/bin/python benchmarks/bench_durability.py --runs 20 \\
        --experiments freeze-region,kill-region \\
        --state-dir /tmp/gameday-h2/state --runs-dir /tmp/gameday-h2/bench \\
        --out /tmp/gameday-h2/bench.jsonl

Each run's Patroni/PostgreSQL log lines are copied into `<run>/stack-logs/` so a
loss can be explained. `--report FILE` re-prints the table of a (partial) JSONL.
Exit 1 when any run lost an acknowledged write or could not be checked.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bedrock.runfolder import ledger, reports, stacklogs  # noqa: E402
from bedrock.runfolder import run as run_file  # noqa: E402
from stack.ledger_truth import ledger_truth  # noqa: E402

RUN_TIMEOUT_S = 300.0


def _measure(results: dict[str, Any], key: str) -> float | None:
    value = results.get("measurements", {}).get(key, {})
    return value.get("value_s") if isinstance(value, dict) else None


def _promotion(results: dict[str, Any]) -> float | None:
    for step in results.get("measurements", {}).get("failover_timeline", []) or []:
        if step.get("name") == "database promotion":
            return float(step["end_s"])
    return None


def _log_offsets(logs: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in logs.glob("pg-*.log")}


def _copy_logs(logs: Path, before: dict[str, int], run_dir: Path) -> None:
    for path in logs.glob("pg-*.log"):
        start = before.get(path.name, 0)
        with path.open("rb") as fh:
            if fh.seek(0, 2) < start:  # rotated during the run
                start = 0
            fh.seek(start)
            stacklogs.write_slice(run_dir, path.name, fh.read())


def _run_dir(runs_dir: Path, known: set[str], output: str) -> Path | None:
    for line in output.splitlines():
        if line.startswith("run folder:"):
            return Path(line.split(":", 1)[1].strip())
    fresh = sorted(p for p in runs_dir.iterdir() if p.is_dir() and p.name not in known)
    return fresh[-1] if fresh else None


def one_run(args: argparse.Namespace, experiment: str, urls: list[str]) -> dict[str, Any]:
    logs = Path(args.state_dir) / "logs"
    runs_dir = Path(args.runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    known = {p.name for p in runs_dir.iterdir()}
    offsets = _log_offsets(logs)
    cmd = [args.gameday, "run", experiment, "--load", "constant", "--profile", "ci"]
    cmd += ["--state-dir", args.state_dir, "--runs-dir", args.runs_dir]
    started = time.monotonic()
    row: dict[str, Any] = {"experiment": experiment}
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=args.cwd
        )
        output, row["exit"] = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        output, row["exit"] = str(exc.stdout or "") + str(exc.stderr or ""), "timeout"
    row["seconds"] = round(time.monotonic() - started, 1)
    run_dir = _run_dir(runs_dir, known, output)
    row["run_dir"] = str(run_dir)
    if run_dir is None or not ledger.exists(run_dir):
        row["error"] = f"no run folder with a ledger; output tail: {output[-400:]}"
        return row
    _copy_logs(logs, offsets, run_dir)
    try:
        truth = ledger_truth(run_dir, urls)
    except (TimeoutError, psycopg.Error) as exc:
        row["error"] = f"database truth unavailable: {exc}"
        return row
    results = reports.read_results_or_none(run_dir) or {}
    record = run_file.read_run(run_dir)
    row.update(
        leader=truth.leader,
        acknowledged=truth.acknowledged,
        lost=len(truth.lost),
        lost_sample=truth.lost[:10],
        fault_s=(record.get("windows_s") or {}).get("fault"),
        aborted=record.get("aborted"),
        suite_lost=results.get("measurements", {}).get("data", {}).get("lost"),
        failover_s=_measure(results, "failover"),
        rto_s=_measure(results, "rto"),
        promotion_s=_promotion(results),
        verdict=results.get("verdict", {}).get("status"),
    )
    return row


def _aborted(row: dict[str, Any]) -> str | None:
    """Why the run stopped before its fault (e.g. steady state not met): it tested nothing."""
    if "aborted" in row:
        return row["aborted"]  # type: ignore[no-any-return]
    run_dir = Path(str(row.get("run_dir")))
    if run_file.is_run_folder(run_dir):
        return run_file.read_run(run_dir).get("aborted")  # type: ignore[no-any-return]
    return None


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


HEADER = f"{'#':>3} {'experiment':<14} {'fault':>5} {'ack':>5} {'lost':>5} {'suite':>5} "
HEADER += f"{'failover':>8} {'rto':>6} {'promote':>7} {'verdict':<8} leader"


def row_line(i: int, row: dict[str, Any]) -> str:
    if "error" in row:
        return f"{i:>3} {row['experiment']:<14} ERROR {row['error'][:160]}"
    if _aborted(row):
        return f"{i:>3} {row['experiment']:<14} NO FAULT (not counted): {_aborted(row)}"
    return (
        f"{i:>3} {row['experiment']:<14} {_fmt(row.get('fault_s'), 0):>5} "
        f"{row['acknowledged']:>5} {row['lost']:>5} "
        f"{_fmt(row['suite_lost']):>5} {_fmt(row['failover_s']):>8} {_fmt(row['rto_s']):>6} "
        f"{_fmt(row['promotion_s']):>7} {_fmt(row['verdict']):<8} {row['leader']}"
    )


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def summary(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for exp in sorted({r["experiment"] for r in rows}):
        mine = [r for r in rows if r["experiment"] == exp]
        ok = [r for r in mine if "error" not in r and not _aborted(r)]
        lossy = [r for r in ok if r["lost"] > 0]
        lines.append(
            f"{exp}: {len(ok)} checked ({len(mine) - len(ok)} unchecked or without fault); "
            f"runs losing writes {len(lossy)}; lost {sum(r['lost'] for r in ok)} of "
            f"{sum(r['acknowledged'] for r in ok)} acknowledged; median failover "
            f"{_fmt(_median(ok, 'failover_s'))} s, RTO {_fmt(_median(ok, 'rto_s'))} s, "
            f"promotion {_fmt(_median(ok, 'promotion_s'))} s; max RTO "
            f"{_fmt(max((r['rto_s'] for r in ok if r.get('rto_s') is not None), default=None))} s"
        )
    return lines


def report(rows: list[dict[str, Any]]) -> int:
    print(HEADER)
    for i, row in enumerate(rows, 1):
        print(row_line(i, row))
    for line in summary(rows):
        print(line)
    bad = [r for r in rows if "error" in r or r.get("lost")]
    return 1 if bad or not rows else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--runs",
        type=int,
        default=20,
        help="faulted runs per experiment (one that never faulted is rerun)",
    )
    ap.add_argument("--experiments", default="freeze-region,kill-region")
    ap.add_argument("--state-dir", default=".state")
    ap.add_argument("--runs-dir", default="/tmp/gameday-bench-durability")
    ap.add_argument("--out", help="append one JSON line per run to this file")
    ap.add_argument("--gameday", default=str(Path(sys.executable).parent / "gameday"))
    ap.add_argument("--cwd", default="/tmp", help="where the runs start (not the checkout)")
    ap.add_argument("--report", help="only print the table of an earlier --out file")
    args = ap.parse_args(argv)
    if args.report:
        lines = Path(args.report).read_text().splitlines()
        return report([json.loads(line) for line in lines if line.strip()])
    handles = json.loads((Path(args.state_dir) / "stack.json").read_text())
    urls = list(handles["patroni_urls"].values())
    experiments = [e for e in args.experiments.split(",") if e]
    rows: list[dict[str, Any]] = []
    print(HEADER, flush=True)
    # A run whose fault never ran (steady state not met under load) is not counted: each
    # experiment is run until it has `--runs` faulted runs, or `--runs + 5` attempts.
    counted = dict.fromkeys(experiments, 0)
    attempts = dict.fromkeys(experiments, 0)
    while any(counted[e] < args.runs and attempts[e] < args.runs + 5 for e in experiments):
        for exp in experiments:
            if counted[exp] >= args.runs or attempts[exp] >= args.runs + 5:
                continue
            row = one_run(args, exp, urls)
            attempts[exp] += 1
            counted[exp] += 0 if _aborted(row) else 1
            rows.append(row)
            print(row_line(len(rows), row), flush=True)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
    for line in summary(rows):
        print(line)
    return 1 if any("error" in r or r.get("lost") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

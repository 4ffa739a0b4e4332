"""`gameday load` and `gameday load-summary`: run a load scenario, summarise a run folder's requests.

    gameday load spike --profile ci --host http://127.0.9.1:8080 --run-dir runs/x
    gameday load constant --profile ci --host URL --run-dir D --open-model --rate 2000 --processes 2
    gameday load-summary runs/x

`load` blocks until the run ends (Ctrl-C stops it cleanly), then prints per-endpoint counts and
p50/p95/p99 from the recorded HdrHistograms. Exit 0 when requests were recorded, 3 when
nothing was (no data is inconclusive).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bedrock import options
from bedrock.errors import EXIT_INCONCLUSIVE, EXIT_OK, Inconclusive, InputError
from bedrock.runfolder import events
from loadtests import histograms, runner
from loadtests.stages import PROFILES, SEED_SCENARIOS


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("load", help="run a Locust load scenario against an entry URL")
    p.add_argument("scenario", choices=sorted(SEED_SCENARIOS))
    p.add_argument("--profile", choices=sorted(PROFILES), default="ci")
    options.add_load_target(p, run_dir_help="run folder (requests/, ledger.jsonl, ...)")
    p.add_argument("--open-model", action="store_true", help="arrival-rate mode (needs --rate)")
    p.add_argument(
        "--rate",
        type=options.number(0, 1_000_000, low_open=True),
        help="open model: peak arrival rate, req/s",
    )
    p.add_argument(
        "--processes", type=options.integer(1, 64), default=1, help="Locust worker processes"
    )
    p.add_argument(
        "--time-scale",
        type=options.number(0, 1000, low_open=True),
        default=1.0,
        help="extra duration factor",
    )
    p.add_argument(
        "--ledger-rate",
        type=options.number(0, 10_000),
        default=10.0,
        help="ledger writes/s (0: off)",
    )
    p.set_defaults(func=cmd_load)

    s = subparsers.add_parser("load-summary", help="counts and percentiles of a run's requests/")
    s.add_argument("run_dir")
    s.set_defaults(func=cmd_summary)


def cmd_load(args: argparse.Namespace) -> int:
    if args.open_model and args.rate is None:
        raise InputError("--open-model needs --rate R (req/s)")
    handle = runner.start(
        args.scenario,
        args.profile,
        args.host,
        args.run_dir,
        open_rate_rps=args.rate if args.open_model else None,
        processes=args.processes,
        time_scale=args.time_scale,
        ledger_rate_rps=args.ledger_rate,
        allow_hosts=args.allow_host,
    )
    print(
        f"load: {args.scenario}/{args.profile} pid {handle.pid}, planned {handle.planned_s:.0f} s, "
        f"log {handle.log_path}",
        flush=True,
    )
    try:
        code = handle.wait()
    except KeyboardInterrupt:
        print("load: stopping", file=sys.stderr)
        code = handle.stop(timeout=10)
    print(f"load: locust exited {code}")
    result = cmd_summary(argparse.Namespace(run_dir=args.run_dir))
    if args.open_model:
        print_open_model(Path(args.run_dir))
    return result


def print_open_model(run_dir: Path) -> None:
    """Achieved vs target from the lanes' `load.open_model` events (missing lanes are said)."""
    reports = [e.detail for e in events.events_of_kind(run_dir, events.LOAD_OPEN_MODEL)]
    if not reports:
        print("open model: no lane reported (run stopped early?): achieved/target unknown")
        return
    target = sum(int(r["target_requests"]) for r in reports)
    sent = sum(int(r["sent"]) for r in reports)
    late = sum(int(r["late"]) for r in reports)
    lanes = int(reports[0]["lanes"])
    ratio = f"{sent / target:.4f}" if target else "n/a"
    print(
        f"open model: {len(reports)}/{lanes} lanes reported; target {target} requests, "
        f"sent {sent}, late {late}, achieved/target {ratio}"
    )


def cmd_summary(args: argparse.Namespace) -> int:
    if not Path(args.run_dir).is_dir():
        raise InputError(f"{args.run_dir}: not a directory (give a run folder)")
    result = histograms.summary(args.run_dir)
    if not result or not result.get("ALL", {}).get("sent"):
        raise Inconclusive(f"{args.run_dir}/requests: no requests recorded")
    print(json.dumps(result, indent=2))
    return EXIT_OK if result else EXIT_INCONCLUSIVE

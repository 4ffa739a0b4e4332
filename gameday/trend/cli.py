"""`gameday trend`: record finished runs into the history store and write the trend page."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bedrock import options
from bedrock.runfolder import reports
from gameday.trend.page import write_trend
from gameday.trend.store import import_runs, open_store, row_from_run
from slo.trend import RunRow

HISTORY_HELP = (
    "history store: a SQLite path or a postgresql://user@host:port/db URL (default: "
    "$GAMEDAY_HISTORY, else <runs dir>/../gameday-history.sqlite); prefer PGPASSWORD or "
    "~/.pgpass to a password in the URL"
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "trend",
        help="plot failover, RTO, lost writes, p95 and verdicts per experiment over past runs",
        description="Record every finished run folder under --runs-dir into the history store "
        "(idempotent), then write a page with one series per experiment and metric, flagging "
        "regressions.",
    )
    p.add_argument("--runs-dir", type=Path, default=Path("runs"))
    p.add_argument("--history", default=None, metavar="URL", help=HISTORY_HELP)
    p.add_argument(
        "--out", type=options.output_file, default=None, help="page (default <runs dir>/trend.html)"
    )
    p.set_defaults(func=cmd_trend)


def cmd_trend(args: argparse.Namespace) -> int:
    store = open_store(args.history, args.runs_dir)
    n = import_runs(store, args.runs_dir) if args.runs_dir.is_dir() else 0
    rows = store.rows()
    out = write_trend(rows, args.out or args.runs_dir / "trend.html", store.where)
    print(f"trend: {len(rows)} runs in the history {store.where} ({n} folders read now): {out}")
    return 0


def record_finished(runs_dir: Path, run_dir: Path, say: Any = print) -> list[RunRow]:
    """After a run or suite: record it (a history problem never fails the run; it is said).

    The store is $GAMEDAY_HISTORY when set (e.g. a team's postgresql:// URL), else the SQLite
    file beside the runs folder; the store's errors never carry the URL's password."""
    try:
        store = open_store(None, runs_dir)
        if reports.has_results(run_dir):
            row = row_from_run(run_dir)
            if row is not None:
                store.record(row)
        else:
            import_runs(store, run_dir)  # a trials group: its trials' folders
        return store.rows()
    except Exception as exc:  # noqa: BLE001 - the history is a convenience, not the verdict
        say(f"gameday: the run was not recorded in the history: {exc}")
        return []

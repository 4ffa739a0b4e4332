"""The history store: one row per finished run (and suite), behind a small interface.

`open_store(url)`: a path or `sqlite:///path` is an embedded SQLite file (the default:
`<runs dir>/../gameday-history.sqlite`). A `postgresql://` URL is refused with a clear
error for now: the interface (`record`, `rows`) is what a PostgreSQL store would implement;
it is not built (no PostgreSQL driver is a dependency yet).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bedrock.errors import GamedayError, InputError
from bedrock.runfolder import reports

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  run_dir TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  experiment TEXT NOT NULL,
  started_wall REAL,
  verdict TEXT,
  failover_s REAL,
  rto_s REAL,
  lost INTEGER,
  p95_ms REAL,
  failing TEXT
)
"""
FIELDS: tuple[str, ...] = ("run_dir", "kind", "experiment", "started_wall", "verdict")
FIELDS += ("failover_s", "rto_s", "lost", "p95_ms", "failing")


@dataclass(frozen=True)
class RunRow:
    run_dir: str
    kind: str  # "run" or "suite"
    experiment: str
    started_wall: float | None
    verdict: str | None
    failover_s: float | None
    rto_s: float | None
    lost: int | None
    p95_ms: float | None
    failing: str | None


class HistoryStore(Protocol):
    def record(self, row: RunRow) -> None: ...
    def rows(self) -> list[RunRow]: ...


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def record(self, row: RunRow) -> None:
        marks = ",".join("?" for _ in FIELDS)
        with self._db() as db:
            db.execute(
                f"INSERT OR REPLACE INTO runs ({','.join(FIELDS)}) VALUES ({marks})",
                [getattr(row, f) for f in FIELDS],
            )

    def rows(self) -> list[RunRow]:
        with self._db() as db:
            cur = db.execute(f"SELECT {','.join(FIELDS)} FROM runs ORDER BY started_wall")
            return [RunRow(*r) for r in cur.fetchall()]


def default_location(runs_dir: Path) -> Path:
    return Path(runs_dir).resolve().parent / "gameday-history.sqlite"


def open_store(url: str | None, runs_dir: Path) -> HistoryStore:
    if not url:
        return SqliteStore(default_location(runs_dir))
    if url.startswith(("postgresql://", "postgres://")):
        raise InputError(
            "--history postgresql://...: the PostgreSQL history store is not built yet "
            "(the SQLite store implements the same record/rows interface)"
        )
    return SqliteStore(Path(url.removeprefix("sqlite:///").removeprefix("sqlite://")))


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) else None


def row_from_run(run_dir: Path) -> RunRow | None:
    """A finished run folder's row (None when it has no results.json yet)."""
    try:
        res = reports.read_results(run_dir)
    except GamedayError:
        return None
    run, m = res.get("run") or {}, res.get("measurements") or {}
    p95s = [(p.get("all") or {}).get("p95_ms") for p in m.get("phases") or []]
    p95 = max((v for v in p95s if isinstance(v, int | float)), default=None)
    lost = (m.get("data") or {}).get("lost")
    failing = [
        s.get("title", s.get("id")) for s in res.get("slos", []) if s.get("status") == "fail"
    ]
    experiment = Path(str(run.get("experiment") or "none")).stem
    return RunRow(
        run_dir=str(Path(run_dir).resolve()),
        kind="run",
        experiment=experiment,
        started_wall=_num(run.get("started_wall")),
        verdict=(res.get("verdict") or {}).get("status"),
        failover_s=_num((m.get("failover") or {}).get("value_s")),
        rto_s=_num((m.get("rto") or {}).get("value_s")),
        lost=int(lost) if isinstance(lost, int) else None,
        p95_ms=_num(p95),
        failing=", ".join(str(f) for f in failing) or None,
    )


def import_runs(store: HistoryStore, runs_dir: Path) -> int:
    """Record every finished run folder under `runs_dir` (idempotent: keyed by folder)."""
    count = 0
    for folder in reports.folders_with_results(runs_dir):
        row = row_from_run(folder)
        if row is not None:
            store.record(row)
            count += 1
    return count

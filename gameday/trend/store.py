"""The history store: one row per finished run (and suite), behind a small interface.

`open_store(url, runs_dir)`: the URL comes from `--history` or else the GAMEDAY_HISTORY
variable. None, a path or `sqlite:///path` is an embedded SQLite file (the default:
`<runs dir>/../gameday-history.sqlite`); a `postgresql://` URL (psycopg) is a shared PostgreSQL
database for a team. Both keep the same table, keyed by the run folder (recording twice
replaces). A password in the URL is never shown: `where` and every error name the store
without it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import conninfo

from bedrock.errors import GamedayError, InputError, SetupError
from bedrock.runfolder import reports
from slo.trend import RunRow

ENV = "GAMEDAY_HISTORY"
COLUMNS = """
  run_dir TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  experiment TEXT NOT NULL,
  started_wall {real},
  verdict TEXT,
  failover_s {real},
  rto_s {real},
  lost INTEGER,
  p95_ms {real},
  failing TEXT
"""
SCHEMA = "CREATE TABLE IF NOT EXISTS runs (" + COLUMNS.format(real="REAL") + ")"
PG_SCHEMA = "CREATE TABLE IF NOT EXISTS runs (" + COLUMNS.format(real="DOUBLE PRECISION") + ")"
FIELDS: tuple[str, ...] = ("run_dir", "kind", "experiment", "started_wall", "verdict")
FIELDS += ("failover_s", "rto_s", "lost", "p95_ms", "failing")
__all__ = ["RunRow", "HistoryStore", "SqliteStore", "PostgresStore", "open_store"]


class HistoryStore(Protocol):
    where: str  # the store's location as it may be shown (no password)

    def record(self, row: RunRow) -> None: ...
    def rows(self) -> list[RunRow]: ...


def _not_sqlite(path: Path) -> bool:
    """A non-empty file without SQLite's header (an empty file is a new database)."""
    with path.open("rb") as fh:
        head = fh.read(16)
    return bool(head) and head != b"SQLite format 3\x00"


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        try:
            if path.exists() and (not path.is_file() or _not_sqlite(path)):
                raise InputError(f"history {path}: not a SQLite database (refusing to touch it)")
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._db() as db:
                db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"history {path}: {exc}") from None

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
            cur = db.execute(f"SELECT {','.join(FIELDS)} FROM runs ORDER BY started_wall, run_dir")
            return [RunRow(*r) for r in cur.fetchall()]


class PostgresStore:
    """The same table in PostgreSQL (psycopg 3). Errors name the store without its password."""

    def __init__(self, url: str, source: str = "--history") -> None:
        try:
            params = conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise InputError(f"{source}: not a valid PostgreSQL URL") from None
        self._url = url
        self._secret = str(params.get("password") or "")
        user = f"{params['user']}@" if params.get("user") else ""
        port = f":{params['port']}" if params.get("port") else ""
        self.where = f"postgresql://{user}{params.get('host', '')}{port}/{params.get('dbname', '')}"
        with self._db() as db:
            db.execute(PG_SCHEMA)

    def _clean(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    @contextmanager
    def _db(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with psycopg.connect(self._url, connect_timeout=10) as db:
                yield db
        except psycopg.Error as exc:
            message = self._clean(str(exc).strip())
            raise SetupError(f"history store {self.where}: {message}") from None

    def record(self, row: RunRow) -> None:
        cols = ",".join(FIELDS)
        updates = ",".join(f"{f} = EXCLUDED.{f}" for f in FIELDS[1:])
        with self._db() as db:
            db.execute(
                f"INSERT INTO runs ({cols}) VALUES ({','.join('%s' for _ in FIELDS)}) "
                f"ON CONFLICT (run_dir) DO UPDATE SET {updates}",
                [getattr(row, f) for f in FIELDS],
            )

    def rows(self) -> list[RunRow]:
        with self._db() as db:
            cur = db.execute(
                f"SELECT {','.join(FIELDS)} FROM runs ORDER BY started_wall NULLS FIRST, run_dir"
            )
            return [RunRow(*r) for r in cur.fetchall()]


def default_location(runs_dir: Path) -> Path:
    return Path(runs_dir).resolve().parent / "gameday-history.sqlite"


def open_store(url: str | None, runs_dir: Path) -> HistoryStore:
    """`url` (--history), else $GAMEDAY_HISTORY, else the SQLite file beside the runs folder."""
    source = "--history"
    if not url:
        url, source = os.environ.get(ENV) or None, ENV
    if not url:
        return SqliteStore(default_location(runs_dir))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url, source)
    if "://" in url and not url.startswith("sqlite://"):
        scheme = url.split("://", 1)[0]
        raise InputError(
            f"{source}: {scheme}:// is not a history store (a SQLite path or postgresql://)"
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

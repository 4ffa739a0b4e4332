"""The history store in a REAL PostgreSQL 15 (Debian's, initdb in a temporary folder, password
authentication on a free loopback port), through `gameday trend --history postgresql://...`
and the GAMEDAY_HISTORY variable a run records through. The password never shows: not in the
command's output, not on the page, not in the errors of a wrong password, not in the server log.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from gameday.cli import main
from gameday.trend.cli import record_finished
from slo.evaluation import evaluate
from slo.rendering import render
from tests.support.ports import free_port
from tests.support.processes import Process
from tests.support.slo_synth import write_run
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

PG_BIN = Path("/usr/lib/postgresql/15/bin")
AS_POSTGRES = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
HOST = "127.0.0.1"


@dataclass
class Server:
    port: int
    password: str
    proc: Process

    def url(self, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql://gameday:{secret}@{HOST}:{self.port}/history"


def _as_postgres(*argv: object) -> None:
    subprocess.run([*AS_POSTGRES, *map(str, argv)], check=True, capture_output=True, timeout=120)


def _accepts(url: str) -> bool:
    with psycopg.connect(url, connect_timeout=2) as db:
        return db.execute("SELECT 1").fetchone() == (1,)


@pytest.fixture
def postgres() -> Iterator[Server]:
    if not (PG_BIN / "initdb").exists():
        pytest.fail("PostgreSQL 15 is missing: run scripts/setup.sh")
    root = Path(tempfile.mkdtemp(prefix="gameday-history-pg-"))  # the postgres user reads it
    pg = pwd.getpwnam("postgres")
    password = secrets.token_urlsafe(12)
    (root / "pw").write_text(password + "\n")
    (root / "sock").mkdir()
    for path in (root, root / "pw", root / "sock"):
        os.chown(path, pg.pw_uid, pg.pw_gid)
    _as_postgres(
        PG_BIN / "initdb", "-D", root / "data", "-U", "gameday", f"--pwfile={root / 'pw'}",
        "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--no-sync",
    )  # fmt: skip
    (root / "pw").unlink()
    port = free_port(HOST)
    proc = Process(
        [*AS_POSTGRES, str(PG_BIN / "postgres"), "-D", str(root / "data"),
         "-c", f"listen_addresses={HOST}", "-c", f"port={port}",
         "-c", f"unix_socket_directories={root / 'sock'}", "-c", "shared_buffers=16MB",
         "-c", "log_connections=on"],
        root / "postgres.log",
        name=f"postgres@{HOST}:{port}",
    )  # fmt: skip
    server = Server(port, password, proc)
    try:
        proc.spawn()
        admin = f"postgresql://gameday:{password}@{HOST}:{port}/postgres"
        wait_for(lambda: _accepts(admin), 60, f"{proc.name} (log {proc.log_path})")
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute("CREATE DATABASE history")
        yield server
    finally:
        proc.stop(first=signal.SIGTERM, grace_s=15)  # TERM, then KILL after the grace
        log = proc.log()
        shutil.rmtree(root, ignore_errors=True)
        assert password not in log, "the password is in the PostgreSQL log"


def _synth(runs: Path, i: int, outage_s: float) -> Path:
    run_dir = runs / f"2026120{i}T000000Z-kill-region"
    write_run(run_dir, outage_s=outage_s, lost=0, seed=i, duration_s=40, fault_at_s=10.0,
              rollback_at_s=25.0, rps=150)  # fmt: skip
    render(run_dir, evaluate(run_dir))
    doc = json.loads((run_dir / "results.json").read_text())
    doc["run"]["started_wall"] += i * 86400.0  # one a night
    (run_dir / "results.json").write_text(json.dumps(doc))
    return run_dir


def test_trend_and_runs_record_into_a_real_postgresql(
    postgres: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = tmp_path / "runs"
    for i, outage in enumerate([5.0, 5.5, 6.0], 1):
        _synth(runs, i, outage)
    out = tmp_path / "trend.html"
    argv = ["trend", "--runs-dir", str(runs), "--history", postgres.url(), "--out", str(out)]
    assert main(argv) == 0
    said = capsys.readouterr()
    where = f"postgresql://gameday@{HOST}:{postgres.port}/history"
    assert f"3 runs in the history {where}" in said.out
    page = out.read_text()
    assert where in page and "gameday trend" in page and 'data-metric="failover_s"' in page
    # what the server holds, read back apart from the store
    with psycopg.connect(postgres.url()) as db:
        got = db.execute("SELECT experiment, failover_s FROM runs ORDER BY started_wall").fetchall()
    assert [e for e, _ in got] == ["kill-region"] * 3
    assert [f for _, f in got] == pytest.approx([5.0, 5.5, 6.0], abs=0.06)
    assert main(argv) == 0  # idempotent: keyed by the run folder
    assert "3 runs in the history" in capsys.readouterr().out
    # a run records through GAMEDAY_HISTORY (no flag on `gameday run`)
    monkeypatch.setenv("GAMEDAY_HISTORY", postgres.url())
    fourth = _synth(runs, 4, 14.0)
    rows = record_finished(runs, fourth, say=lambda m: pytest.fail(f"not recorded: {m}"))
    assert len(rows) == 4 and rows[-1].failover_s == pytest.approx(14.0, abs=0.06)
    assert not (tmp_path / "gameday-history.sqlite").exists()  # nothing fell back to SQLite
    # a wrong password: exit 3, a clear message naming the store, neither password shown
    wrong = secrets.token_urlsafe(12)
    monkeypatch.setenv("GAMEDAY_HISTORY", postgres.url(wrong))
    assert main(["trend", "--runs-dir", str(runs), "--out", str(out)]) == 3
    said = capsys.readouterr()
    assert f"history store {where}" in said.err and "password authentication failed" in said.err
    messages: list[str] = []
    assert record_finished(runs, fourth, say=messages.append) == []
    for text in (said.out, said.err, *messages, out.read_text()):
        assert postgres.password not in text and wrong not in text

"""Database truth for a run's ledger, independent of the suite's own read-back.

After a run, wait until Patroni reports one running leader and every other member
streaming (a demoted member is rewound or re-initialised by then), read the run's
ledger rows on that leader by SQL, and compare them with every `acknowledged`
line of the run's `ledger.jsonl`. Used by benchmarks/bench_durability.py and the
integration tests of region faults.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bedrock.runfolder import ledger

SETTLE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class LedgerTruth:
    leader: str
    acknowledged: int
    lost: list[int]  # acknowledged seqs the leader does not hold


def _cluster(urls: list[str]) -> dict[str, Any] | None:
    for url in urls:
        try:
            resp = httpx.get(f"{url}/cluster", timeout=2.0)
        except httpx.HTTPError:
            continue
        if resp.status_code == 200:
            return resp.json()  # type: ignore[no-any-return]
    return None


def settled_leader(urls: list[str], timeout_s: float = SETTLE_TIMEOUT_S) -> dict[str, Any]:
    """Patroni's leader member once it runs and every other member streams (deadline)."""
    deadline = time.monotonic() + timeout_s
    last: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        last = _cluster(urls)
        members = (last or {}).get("members", [])
        leaders = [m for m in members if m.get("role") == "leader" and m.get("state") == "running"]
        others = [m for m in members if m.get("role") != "leader"]
        if len(leaders) == 1 and all(m.get("state") in ("streaming", "running") for m in others):
            leader: dict[str, Any] = leaders[0]
            return leader
        time.sleep(0.5)
    raise TimeoutError(f"no settled Patroni leader within {timeout_s:.0f} s: {last}")


def rows_on(member: dict[str, Any], client: str) -> set[int]:
    """The ledger seqs of `client` that the member's PostgreSQL holds (by SQL)."""
    dsn = f"host={member['host']} port={member['port']} user=postgres dbname=postgres"
    with psycopg.connect(dsn, connect_timeout=5, password="postgres") as conn:
        rows = conn.execute("SELECT seq FROM ledger WHERE client = %s", (client,)).fetchall()
    return {int(r[0]) for r in rows}


def ledger_truth(run_dir: Path, patroni_urls: list[str]) -> LedgerTruth:
    client, acked = ledger.acknowledged(run_dir)
    leader = settled_leader(patroni_urls)
    present = rows_on(leader, client)
    return LedgerTruth(str(leader["name"]), len(acked), sorted(acked - present))

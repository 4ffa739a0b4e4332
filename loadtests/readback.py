"""Read the ledger back through the API after recovery -> `readback.json` (docs/run-folder.md).

    python -m loadtests.readback --host http://127.0.9.1:8080 --run-dir DIR [--client C]

Pages `GET /ledger?client=C&after=N&limit=L` (docs/reference-api.md) until a short page and
writes the inclusive ranges of sequences found. This reads through the entry point, i.e.
what the recovered service serves; the orchestration may read PostgreSQL directly instead
(then `source` names the database). The client defaults to the one in `ledger.jsonl`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bedrock import options
from bedrock.errors import ActionError, GamedayError
from bedrock.runfolder import ledger, readback
from loadtests.safety import check_host


def ledger_client(run_dir: Path) -> str:
    """The client id the ledger user wrote with (first line of ledger.jsonl)."""
    return ledger.first_client(run_dir)


def fetch_seqs(host: str, client: str, page: int = 10_000, timeout_s: float = 5.0) -> list[int]:
    """Every stored sequence of `client`, ascending; ActionError (retryable) on HTTP failure."""
    seqs: list[int] = []
    after = 0
    with httpx.Client(base_url=host, timeout=timeout_s) as http:
        while True:
            try:
                resp = http.get("/ledger", params={"client": client, "after": after, "limit": page})
                resp.raise_for_status()
                got = [int(x) for x in resp.json()["seqs"]]
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                raise ActionError(f"GET {host}/ledger: {exc}", retryable=True) from exc
            seqs.extend(got)
            if len(got) < page:
                return seqs
            after = got[-1]


def write_readback(
    run_dir: Path, host: str, client: str | None = None, allow_hosts: Sequence[str] = ()
) -> dict[str, Any]:
    """Fetch and write `readback.json`; returns what it wrote."""
    check_host(host, allow_hosts)
    client = client or ledger_client(run_dir)
    seqs = fetch_seqs(host, client)
    return readback.write_readback(run_dir, client, seqs, f"api {host}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loadtests.readback")
    options.add_load_target(ap)
    ap.add_argument("--client")
    args = ap.parse_args(argv)
    try:
        doc = write_readback(Path(args.run_dir), args.host, args.client, args.allow_host)
    except GamedayError as exc:
        print(f"readback: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"readback: {len(doc['present_ranges'])} range(s) for {doc['client']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

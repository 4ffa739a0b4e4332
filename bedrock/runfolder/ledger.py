"""`ledger.jsonl` (docs/run-folder.md): one line per sequence-numbered write and its outcome.

Writer: `LedgerWriter` (the load generator's ledger user; the line itself is built by
`loadtests.ledger.ledger_line`, which owns the outcome rules). Readers: `read_ledger`
(the report; strict), `acknowledged` and `first_client` (read-back and the integration
tests' ground truth), `last_seq` (a ledger user continuing a client's sequence), `tail`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

from bedrock.errors import InputError
from bedrock.runfolder.jsonl import NUM, JsonlAppender, Tail, get, present, read_rows, write_lines

FILE = "ledger.jsonl"
OUTCOMES = ("acknowledged", "failed", "indeterminate")


class LedgerEntry(NamedTuple):
    seq: int
    client: str
    t_send: float
    t_ack: float | None
    outcome: str  # acknowledged | failed | indeterminate


def path_of(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / FILE


def exists(run_dir: str | os.PathLike[str]) -> bool:
    return path_of(run_dir).exists()


class LedgerWriter(JsonlAppender):
    """Appends one line per write outcome to the run folder's ledger.jsonl."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        super().__init__(path_of(run_dir))


def write_ledger(run_dir: str | os.PathLike[str], rows: list[dict[str, Any]]) -> None:
    """A whole ledger.jsonl at once (synthetic run folders for tests and benchmarks)."""
    write_lines(path_of(run_dir), rows)


def _entry(o: dict[str, Any], where: str) -> LedgerEntry:
    seq, t_send, t_ack_raw, outcome = (
        o.get("seq"),
        o.get("t_send"),
        o.get("t_ack"),
        o.get("outcome"),
    )
    if (
        type(seq) is int
        and type(t_send) in NUM
        and (
            (outcome == "acknowledged" and type(t_ack_raw) in NUM)
            or (outcome in ("failed", "indeterminate") and t_ack_raw is None)
        )
    ):
        client = o.get("client", "")
        return LedgerEntry(
            seq,
            client if type(client) is str else str(client),
            float(t_send),  # type: ignore[arg-type]
            float(t_ack_raw) if t_ack_raw is not None else None,
            str(outcome),
        )
    num = (int, float)
    outcome = get(o, "outcome", str, where)
    if outcome not in OUTCOMES:
        raise InputError(f"{where}: key 'outcome' must be acknowledged|failed|indeterminate")
    t_ack = get(o, "t_ack", num, where, null=True) if "t_ack" in o else None
    if outcome == "acknowledged" and t_ack is None:
        raise InputError(f"{where}: key 't_ack' is required for an acknowledged write")
    return LedgerEntry(
        seq=get(o, "seq", int, where),
        client=str(o.get("client", "")),
        t_send=float(get(o, "t_send", num, where)),
        t_ack=float(t_ack) if t_ack is not None else None,
        outcome=outcome,
    )


def read_ledger(run_dir: str | os.PathLike[str]) -> list[LedgerEntry] | None:
    """Every write outcome in file order; None when there is no ledger (no ledger user)."""
    path = path_of(run_dir)
    if not present(path):
        return None
    return [_entry(o, f"{path}:{lineno}") for lineno, o in read_rows(path)]


def acknowledged(run_dir: str | os.PathLike[str]) -> tuple[str, set[int]]:
    """The run's client name (the last line's) and the seqs acknowledged."""
    client, acked = "", set()
    for entry in read_ledger(run_dir) or []:
        client = entry.client
        if entry.outcome == "acknowledged":
            acked.add(entry.seq)
    return client, acked


def first_client(run_dir: str | os.PathLike[str]) -> str:
    """The client id the ledger user wrote with (first line); InputError when there is none."""
    entries = read_ledger(run_dir)
    if not entries:
        raise InputError(f"{path_of(run_dir)}: no client to read back (no ledger line)")
    return entries[0].client


def last_seq(run_dir: str | os.PathLike[str], client: str) -> int:
    """Highest `seq` of `client` among the last complete lines of the ledger (0 if none).

    A ledger user that Locust moves to another worker process continues from here, so a
    client's sequence numbers never repeat within a run folder. Reads only the last 64 KiB.
    """
    path = path_of(run_dir)
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 65536))
            tail_text = fh.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return 0
    best = 0
    for raw in tail_text.split("\n")[1:-1] if size > 65536 else tail_text.split("\n")[:-1]:
        try:
            obj = json.loads(raw)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("client") == client and type(obj.get("seq")) is int:
            best = max(best, int(obj["seq"]))
    return best


def tail(run_dir: str | os.PathLike[str]) -> Tail:
    """New ledger lines as they are appended (live views; bad lines skipped)."""
    return Tail(path_of(run_dir))

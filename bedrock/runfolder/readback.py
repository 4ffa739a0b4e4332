"""`readback.json` (docs/run-folder.md): which ledger sequences the database holds after
recovery, as inclusive ranges. Writer: `write_readback` (orchestration's read-back, the
`python -m loadtests.readback` tool). Reader: `read_readback` (the report)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from bedrock.errors import InputError
from bedrock.runfolder.jsonl import get, present, read_json, write_json

FILE = "readback.json"
ERROR_FILE = "readback.error"  # why there is no readback.json (the RPO is then inconclusive)


@dataclass(frozen=True)
class Readback:
    client: str
    present_ranges: list[tuple[int, int]]
    source: str


def path_of(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / FILE


def ranges_of(seqs: list[int]) -> list[list[int]]:
    """Sorted, merged inclusive ranges of a set of sequence numbers."""
    out: list[list[int]] = []
    for s in sorted(set(seqs)):
        if out and s == out[-1][1] + 1:
            out[-1][1] = s
        else:
            out.append([s, s])
    return out


def write_readback(
    run_dir: str | os.PathLike[str],
    client: str,
    seqs: list[int],
    source: str,
    *,
    t_wall: float | None = None,
) -> dict[str, object]:
    """Write readback.json for the sequences found (read at `t_wall`, default now)."""
    doc: dict[str, object] = {
        "t_wall": time.time() if t_wall is None else t_wall,
        "client": client,
        "present_ranges": ranges_of(seqs),
        "source": source,
    }
    write_json(path_of(run_dir), doc, indent=None)
    return doc


def write_readback_error(run_dir: str | os.PathLike[str], message: str) -> None:
    (Path(run_dir) / ERROR_FILE).write_text(message.rstrip("\n") + "\n")


def read_readback(run_dir: str | os.PathLike[str]) -> Readback | None:
    """None when there is no readback.json (no read-back: the RPO is inconclusive)."""
    path = path_of(run_dir)
    if not present(path):
        return None
    o = read_json(path)
    if not isinstance(o, dict):
        raise InputError(f"{path}: expected a JSON object")
    ranges = get(o, "present_ranges", list, str(path))
    parsed = []
    for i, r in enumerate(ranges):
        if not (isinstance(r, list) and len(r) == 2 and all(type(x) is int for x in r)):
            raise InputError(f"{path}: key 'present_ranges[{i}]' must be [first, last]")
        if r[0] > r[1]:
            raise InputError(f"{path}: key 'present_ranges[{i}]' has first > last")
        parsed.append((r[0], r[1]))
    return Readback(
        client=str(o.get("client", "")), present_ranges=parsed, source=str(o.get("source", ""))
    )

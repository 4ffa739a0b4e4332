"""Append-only JSON-lines writers for the run folder (events.jsonl and friends).

Each line is written with one `write` call on a file opened in append mode, so
lines from several processes never interleave, and a crash leaves every line
written so far. Timestamps follow docs/run-folder.md (t_wall, t_mono).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

RUN_DIR_ENV = "GAMEDAY_RUN_DIR"


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def now() -> tuple[float, float]:
    """(t_wall, t_mono) of this instant."""
    return time.time(), time.monotonic()


def record_event(
    run_dir: Path | str | None,
    kind: str,
    source: str,
    at: tuple[float, float] | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """Append one event to `<run_dir>/events.jsonl` (default: $GAMEDAY_RUN_DIR); return it.

    `at` is the (t_wall, t_mono) the event happened, when that was before now
    (a fault is stamped at its injection, not when the kill call returned).
    """
    t_wall, t_mono = at or now()
    event = {"t_wall": t_wall, "t_mono": t_mono, "kind": kind, "source": source, "detail": detail}
    target = run_dir or os.environ.get(RUN_DIR_ENV)
    if target:
        append_jsonl(Path(target) / "events.jsonl", event)
    return event


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a JSON-lines file (a torn last line is skipped)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out

"""Append-only JSON Lines for the run folder (ledger, probes, events).

Each line goes out in one `write(2)` on an O_APPEND descriptor, so lines from several
processes appending to the same file (events.jsonl) do not interleave, and a crash leaves
every earlier line intact.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class JsonlAppender:
    """Keeps one O_APPEND descriptor open; `append(obj)` writes one line."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.lines = 0

    def append(self, obj: dict[str, Any]) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path}: appender closed")
        os.write(self._fd, (json.dumps(obj, separators=(",", ":")) + "\n").encode())
        self.lines += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def append_event(
    run_dir: str | os.PathLike[str], kind: str, source: str, detail: dict[str, Any]
) -> None:
    """One `events.jsonl` line (docs/run-folder.md) with both clocks."""
    app = JsonlAppender(Path(run_dir) / "events.jsonl")
    try:
        app.append(
            {
                "t_wall": time.time(),
                "t_mono": time.monotonic(),
                "kind": kind,
                "source": source,
                "detail": detail,
            }
        )
    finally:
        app.close()

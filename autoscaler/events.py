"""Append-only events.jsonl writer (docs/run-folder.md): one JSON object per line, flushed.

Thread-safe; each line carries `t_wall` (time.time) and `t_mono` (time.monotonic). With no
path, events are only kept in memory (`.recorded`), which is what tests read.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class EventLog:
    def __init__(
        self,
        path: str | Path | None,
        *,
        source: str = "autoscaler",
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.source = source
        self._wall = wall
        self._mono = mono
        self._lock = threading.Lock()
        self.recorded: list[dict[str, Any]] = []
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, kind: str, **detail: Any) -> dict[str, Any]:
        event = {
            "t_wall": self._wall(),
            "t_mono": self._mono(),
            "kind": kind,
            "source": self.source,
            "detail": detail,
        }
        line = json.dumps(event, separators=(",", ":"))
        with self._lock:
            self.recorded.append(event)
            if self.path is not None:
                with self.path.open("a") as f:
                    f.write(line + "\n")
                    f.flush()
        return event

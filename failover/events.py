"""Append failover events to the run folder's `events.jsonl` (docs/run-folder.md).

One JSON line per event: `t_wall` (time.time), `t_mono` (time.monotonic,
system-wide on Linux), `kind`, `source`, `detail`. Each line is written with one
`write()` on a file opened in append mode and flushed, so concurrent writers
(chaos, autoscaler) do not interleave within a line. With no path, events are
only kept in memory (`recent`), which `/status` shows.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any


class EventLog:
    def __init__(self, path: Path | None, source: str = "failover", keep: int = 50) -> None:
        self.path = path
        self.source = source
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def emit(self, kind: str, **detail: Any) -> dict[str, Any]:
        event = {
            "t_wall": time.time(),
            "t_mono": time.monotonic(),
            "kind": kind,
            "source": self.source,
            "detail": detail,
        }
        line = json.dumps(event, sort_keys=True) + "\n"
        with self._lock:
            self.recent.append(event)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line)
                    fh.flush()
        return event

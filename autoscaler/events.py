"""The autoscaler's events: the base layer's one events.jsonl writer
(`bedrock.runfolder.events.EventLog`) with the autoscaler's source.

With no path, events are only kept in memory (`.recorded`, all of them), which is what
tests read; the clocks can be injected.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from bedrock.runfolder.events import EventLog as _EventLog


class EventLog(_EventLog):
    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        source: str = "autoscaler",
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(path, source, keep=None, wall=wall, mono=mono)

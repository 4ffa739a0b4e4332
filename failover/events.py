"""The failover controller's events: the base layer's one events.jsonl writer
(`bedrock.runfolder.events.EventLog`) with the controller's source and memory.

One JSON line per event (docs/run-folder.md); with no path, events are only kept in
memory (`recent`, the last 50), which `/status` shows.
"""

from __future__ import annotations

import os

from bedrock.runfolder.events import EventLog as _EventLog


class EventLog(_EventLog):
    def __init__(
        self, path: str | os.PathLike[str] | None, source: str = "failover", keep: int = 50
    ) -> None:
        super().__init__(path, source, keep=keep)

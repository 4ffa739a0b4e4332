"""The failover controllers' events on Kubernetes: mirrored from their HTTP endpoints.

On the local stack the controllers append their events to files in the state directory
and a run copies the run window's lines into its events.jsonl
(`gameday.collect.merge_stack_events`). On a cluster those files are in the controllers'
pods, but each controller serves its last events in `GET /status` (`recent_events`,
failover/server.py). `ControllerEvents` polls the target file's `controller_urls` while
runs go on and appends every event it has not seen yet to `<folder>/controller-<n>.jsonl`,
files of the same format: the target's `handles.events_dir` is that folder, and the run
collects them exactly as a local run does.

Clocks: a controller's `t_mono` is its own machine's monotonic clock, meaningless here, so
a mirrored event's `t_mono` is its `t_wall` placed on this process' monotonic clock (what
the run's own events use); the controller's value is kept as `detail.remote_t_mono`.
Limits: a controller killed between two polls loses the events it had not served yet
(`recent_events` holds the last 50; the poll runs every `period_s`); events of a
controller the Service does not route the poll to are seen only through the ones it does.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bedrock.runfolder.jsonl import append_line

Fetch = Callable[[str], Any]  # url -> the parsed /status document


def fetch_status(url: str) -> Any:
    """GET <url>/status (a controller's endpoint), parsed."""
    return httpx.get(f"{url.rstrip('/')}/status", timeout=2.0).json()


class ControllerEvents:
    """Mirror the controllers' `recent_events` into jsonl files (see the module docstring)."""

    def __init__(self, urls: Sequence[str], folder: Path, fetch: Fetch = fetch_status,
                 period_s: float = 1.0) -> None:  # fmt: skip
        self.urls = list(urls)
        self.folder = folder
        self.fetch = fetch
        self.period_s = period_s
        self.errors: dict[str, str] = {}  # url -> the last failure (a controller down)
        self._seen: set[str] = set()
        self._lock = threading.Lock()  # the thread's polls and a caller's (before collection)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> int:
        """One pass over every endpoint; the number of new events written."""
        with self._lock:
            return self._poll()

    def _poll(self) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        offset = time.time() - time.monotonic()  # wall -> this process' monotonic clock
        written = 0
        for i, url in enumerate(self.urls, 1):
            try:
                status = self.fetch(url)
            except (httpx.HTTPError, ValueError) as exc:
                self.errors[url] = str(exc)[:200]
                continue
            recent = status.get("recent_events") if isinstance(status, dict) else None
            for event in recent if isinstance(recent, list) else []:
                line = self._translate(event, offset)
                if line is None:
                    continue
                key = json.dumps([line["source"], line["kind"], line["t_wall"], event.get("detail")],
                                 sort_keys=True, default=str)  # fmt: skip
                if key in self._seen:
                    continue
                self._seen.add(key)
                append_line(self.folder / f"controller-{i}.jsonl", line)
                written += 1
        return written

    @staticmethod
    def _translate(event: Any, offset: float) -> dict[str, Any] | None:
        if not isinstance(event, dict) or not isinstance(event.get("kind"), str):
            return None
        t_wall = event.get("t_wall")
        if not isinstance(t_wall, int | float) or isinstance(t_wall, bool):
            return None
        given = event.get("detail")
        detail: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
        if isinstance(event.get("t_mono"), int | float):
            detail["remote_t_mono"] = event["t_mono"]
        return {"t_wall": float(t_wall), "t_mono": float(t_wall) - offset,
                "kind": event["kind"], "source": str(event.get("source") or "failover"),
                "detail": detail}  # fmt: skip

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.period_s)

    @contextmanager
    def running(self) -> Iterator[ControllerEvents]:
        """Poll in a background thread while the block runs; a last poll at its end."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="controller-events", daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=10)
            self.poll()

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

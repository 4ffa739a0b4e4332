"""`events.jsonl` (docs/run-folder.md): the event kinds, the one writer and the one reader.

Every process of a run appends here (orchestration, chaos actions, the load generator,
the failover controller, the autoscaler, the safeguard monitor), each line in one write
(`bedrock.runfolder.jsonl`), so lines never interleave. The controllers keep their own
files of the same format in the state directory; orchestration copies the run window's
events into the run folder (`copy_events`). Measurement ignores kinds it does not know.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bedrock.errors import InputError
from bedrock.runfolder.jsonl import NUM, Tail, append_line, get, present, read_rows, write_lines

FILE = "events.jsonl"
RUN_DIR_ENV = "GAMEDAY_RUN_DIR"

# The known kinds (docs/run-folder.md); others are allowed.
PHASE = "phase"
RUN_STARTED = "run.started"
RUN_ENDED = "run.ended"
ABORT = "abort"
STACK_RESTORED = "stack.restored"
STACK_RESTORE_FAILED = "stack.restore_failed"
FAULT_INJECTED = "fault.injected"
FAULT_ROLLED_BACK = "fault.rolled_back"
FAILOVER_DETECTED = "failover.detected"
FAILOVER_TRAFFIC_SWITCHED = "failover.traffic_switched"
FAILOVER_SCALED = "failover.scaled"
FAILOVER_READY = "failover.ready"
FAILOVER_LB_UPDATED = "failover.lb_updated"
FAILOVER_COMPLETED = "failover.completed"
FAILOVER_FAILED = "failover.failed"
FAILBACK_COMPLETED = "failback.completed"
CONTROLLER_LEADER = "controller.leader"
DB_LEADER_CHANGED = "db.leader_changed"
REDIS_MASTER_CHANGED = "redis.master_changed"
LOAD_STEP = "load.step"
LOAD_GENERATOR = "load.generator"
LOAD_OPEN_MODEL = "load.open_model"
SCALE_DECISION = "scale.decision"
REPLICA_STARTED = "replica.started"
REPLICA_READY = "replica.ready"
REPLICA_STOPPED = "replica.stopped"


@dataclass(frozen=True)
class Event:
    t_wall: float
    t_mono: float
    kind: str
    source: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "t_wall": self.t_wall,
            "t_mono": self.t_mono,
            "kind": self.kind,
            "source": self.source,
            "detail": self.detail,
        }


def path_of(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / FILE


def now() -> tuple[float, float]:
    """(t_wall, t_mono) of this instant."""
    return time.time(), time.monotonic()


def make(
    kind: str, source: str, detail: dict[str, Any], at: tuple[float, float] | None = None
) -> dict[str, Any]:
    t_wall, t_mono = at or now()
    return {"t_wall": t_wall, "t_mono": t_mono, "kind": kind, "source": source, "detail": detail}


# -- writing -----------------------------------------------------------------------


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
    event = make(kind, source, detail, at)
    target = run_dir or os.environ.get(RUN_DIR_ENV)
    if target:
        append_line(path_of(target), event)
    return event


def append_event(
    run_dir: str | os.PathLike[str], kind: str, source: str, detail: dict[str, Any]
) -> None:
    """One event with a detail mapping (the load generator's form)."""
    append_line(path_of(run_dir), make(kind, source, detail))


def copy_events(run_dir: str | os.PathLike[str], events: Iterable[Event]) -> int:
    """Append events read elsewhere (a controller's own file) to the run folder's; the count."""
    copied = 0
    for event in events:
        append_line(path_of(run_dir), event.as_dict())
        copied += 1
    return copied


def write_events(run_dir: str | os.PathLike[str], events: Iterable[dict[str, Any]]) -> None:
    """A whole events.jsonl at once (synthetic run folders for tests and benchmarks)."""
    write_lines(path_of(run_dir), list(events))


class EventLog:
    """A daemon's event writer: appends to `path` (an events.jsonl-format file; None keeps
    events only in memory) and keeps the last `keep` events (None: all) in `recent`, which
    the daemons' /status shows and tests read. Thread-safe."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        source: str,
        *,
        keep: int | None = 50,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.source = source
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._wall = wall
        self._mono = mono
        self._lock = threading.Lock()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def emit(self, kind: str, **detail: Any) -> dict[str, Any]:
        event = make(kind, self.source, detail, (self._wall(), self._mono()))
        with self._lock:
            self.recent.append(event)
            if self.path is not None:
                append_line(self.path, event)
        return event

    record = emit

    @property
    def recorded(self) -> list[dict[str, Any]]:
        return list(self.recent)


# -- reading -----------------------------------------------------------------------


def read_event_file(path: Path) -> list[Event]:
    """Every event of an events.jsonl-format file, by t_mono; [] when there is none.
    InputError naming file and line on a bad line (non-finite numbers, bad bytes...)."""
    if not present(path):
        return []
    events = []
    for lineno, o in read_rows(path):
        where = f"{path}:{lineno}"
        detail = o.get("detail") or {}
        if not isinstance(detail, dict):
            raise InputError(f"{where}: key 'detail' must be an object")
        t_wall, t_mono = (
            get(o, "t_wall", (int, float), where),
            get(o, "t_mono", (int, float), where),
        )
        if type(t_wall) not in NUM or type(t_mono) not in NUM:
            raise InputError(f"{where}: keys 't_wall' and 't_mono' must be numbers")
        events.append(
            Event(
                t_wall=float(t_wall),
                t_mono=float(t_mono),
                kind=get(o, "kind", str, where),
                source=str(o.get("source", "")),
                detail=detail,
            )
        )
    events.sort(key=lambda e: e.t_mono)
    return events


def read_events(run_dir: str | os.PathLike[str]) -> list[Event]:
    """The run folder's events, by t_mono."""
    return read_event_file(path_of(run_dir))


def events_of_kind(run_dir: str | os.PathLike[str], kind: str) -> list[Event]:
    return [e for e in read_events(run_dir) if e.kind == kind]


def tail(run_dir: str | os.PathLike[str]) -> Tail:
    """New events as they are appended (live views; bad lines skipped)."""
    return Tail(path_of(run_dir))

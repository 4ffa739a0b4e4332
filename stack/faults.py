"""The fault journal: every fault is on disk before it is injected, with how to undo it.

A fault is a value (`Fault`: kind, target, undo). Whoever injects one calls
`journal.record(fault)` first; whoever undoes it (the experiment's rollback, the
runner's safety net, `gameday recover`, another process entirely) calls
`journal.clear(fault)` afterwards. So a runner killed at any instant leaves a
journal that says exactly what is still broken and how to repair it.

The journal is behind a small interface (`FaultJournal`); `DirJournal` keeps one
JSON file per fault in the stack's state directory (`<state>/faults/`), written
atomically, so processes never overwrite each other's entries. Recording the
same fault twice keeps one entry; clearing an absent one is a no-op.

Undo verbs (the first element of `Fault.undo`; the rest are its arguments):
    start PROGRAM            start a program a kill or stop left down
    thaw PROGRAM             SIGCONT a frozen program tree
    restore-region REGION    thaw and start a killed or frozen region
    set-latency REGION MS    reset injected latency (MS is 0)
    heal-network ADDRESS     delete our nftables rules for ADDRESS
    scale REGION N           set a region's API replicas back to N
    failback REGION          route the edge and the database leader back to REGION
"""

from __future__ import annotations

import json
import os
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FaultKind = Literal[
    "kill", "freeze", "stop", "nftables", "latency", "scale", "edge", "db-leader", "region"
]
UNDO_VERBS = {
    "start": 1,
    "thaw": 1,
    "restore-region": 1,
    "set-latency": 2,
    "heal-network": 1,
    "scale": 2,
    "failback": 1,
}


@dataclass(frozen=True)
class Fault:
    """One injected fault: what kind, what it hits, and the command that undoes it."""

    kind: FaultKind
    target: str
    undo: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.undo or UNDO_VERBS.get(self.undo[0]) != len(self.undo) - 1:
            raise ValueError(f"fault {self.kind} {self.target}: bad undo {self.undo!r}")

    @property
    def key(self) -> str:
        """A file-system-safe identity: one journal entry per (kind, target)."""
        return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{self.kind}--{self.target}")

    def describe(self) -> str:
        return f"{self.kind} {self.target} (undo: {' '.join(self.undo)})"


@dataclass(frozen=True)
class JournalEntry:
    fault: Fault
    recorded_wall: float
    pid: int
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "gameday.fault/1",
            "kind": self.fault.kind,
            "target": self.fault.target,
            "undo": list(self.fault.undo),
            "recorded_wall": self.recorded_wall,
            "pid": self.pid,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> JournalEntry:
        fault = Fault(doc["kind"], str(doc["target"]), tuple(str(a) for a in doc["undo"]))
        return cls(fault, float(doc["recorded_wall"]), int(doc["pid"]), dict(doc.get("detail", {})))


class FaultJournal(ABC):
    """Where injected faults are written before injection and removed once undone."""

    @abstractmethod
    def record(self, fault: Fault, **detail: Any) -> None:
        """Durably note `fault` (call BEFORE injecting it)."""

    @abstractmethod
    def clear(self, fault: Fault) -> bool:
        """Forget `fault` (call AFTER undoing it); True when it was there."""

    @abstractmethod
    def entries(self) -> list[JournalEntry]:
        """Every fault still recorded, oldest first; unreadable entries are skipped."""

    def clear_where(self, kind: str | None = None, target: str | None = None) -> list[Fault]:
        """Forget every entry matching kind and/or target; return what was cleared."""
        gone = []
        for entry in self.entries():
            f = entry.fault
            if (kind is None or f.kind == kind) and (target is None or f.target == target):
                if self.clear(f):
                    gone.append(f)
        return gone


class DirJournal(FaultJournal):
    """One JSON file per fault under `path`, each written with fsync + atomic rename."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, fault: Fault, **detail: Any) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        entry = JournalEntry(fault, time.time(), os.getpid(), detail)
        final = self.path / f"{fault.key}.json"
        tmp = self.path / f".{fault.key}.{os.getpid()}.tmp"
        with tmp.open("w") as out:
            json.dump(entry.to_json(), out)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(final)
        _fsync_dir(self.path)

    def clear(self, fault: Fault) -> bool:
        try:
            (self.path / f"{fault.key}.json").unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(self.path)
        return True

    def entries(self) -> list[JournalEntry]:
        out = []
        for path in sorted(self.path.glob("*.json")):
            try:
                out.append(JournalEntry.from_json(json.loads(path.read_text())))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(out, key=lambda e: e.recorded_wall)


class MemoryJournal(FaultJournal):
    """In memory: for tests and for stacks that must not persist anything."""

    def __init__(self) -> None:
        self._entries: dict[str, JournalEntry] = {}

    def record(self, fault: Fault, **detail: Any) -> None:
        self._entries[fault.key] = JournalEntry(fault, time.time(), os.getpid(), detail)

    def clear(self, fault: Fault) -> bool:
        return self._entries.pop(fault.key, None) is not None

    def entries(self) -> list[JournalEntry]:
        return sorted(self._entries.values(), key=lambda e: e.recorded_wall)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the faults the local stack injects -------------------------------------------------


def program_killed(program: str) -> Fault:
    return Fault("kill", f"program:{program}", ("start", program))


def program_frozen(program: str) -> Fault:
    return Fault("freeze", f"program:{program}", ("thaw", program))


def region_down(region: str) -> Fault:
    """A killed or frozen region (both undone by restore-region)."""
    return Fault("region", f"region:{region}", ("restore-region", region))


def latency_added(region: str) -> Fault:
    return Fault("latency", f"region:{region}", ("set-latency", region, "0"))


def network_rule(address: str) -> Fault:
    return Fault("nftables", f"address:{address}", ("heal-network", address))


def region_scaled(region: str, replicas: int) -> Fault:
    return Fault("scale", f"region:{region}", ("scale", region, str(int(replicas))))


def edge_switched(home: str) -> Fault:
    return Fault("edge", "edge", ("failback", home))


def db_leader_moved(home: str) -> Fault:
    return Fault("db-leader", "db-leader", ("failback", home))

"""A run folder (docs/run-folder.md) as slo needs it: one `RunData`, read through the
base layer's one reader per file (`bedrock.runfolder`); the only I/O of slo's measures.

Missing optional files become None/empty (the verdicts turn that into "inconclusive");
malformed lines raise InputError naming file, line and key (exit 2). Request histograms
are kept as their base64 text: decoding is measurement work (`bedrock.histograms`) done
one second at a time to bound memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bedrock.errors import InputError
from bedrock.runfolder import events, ledger, probes, readback, requests, run
from bedrock.runfolder.events import Event
from bedrock.runfolder.jsonl import read_json as load_json_file
from bedrock.runfolder.ledger import LedgerEntry
from bedrock.runfolder.probes import Probe
from bedrock.runfolder.readback import Readback
from bedrock.runfolder.requests import RequestLine

__all__ = [
    "Event",
    "LedgerEntry",
    "Probe",
    "Readback",
    "RequestLine",
    "RunData",
    "load_json_file",
    "load_run",
    "read_events",
]


@dataclass
class RunData:
    run_dir: Path
    run: dict[str, Any]
    probes: list[Probe] | None
    events: list[Event]
    ledger: list[LedgerEntry] | None
    readback: Readback | None
    requests: list[RequestLine] | None
    notes: list[str] = field(default_factory=list)


def read_events(path: Path) -> list[Event]:
    """The events of an events.jsonl-format file (a run's, or a daemon's own), by t_mono."""
    return events.read_event_file(Path(path))


def load_run(run_dir: Path, *, with_requests: bool = True) -> RunData:
    """Everything slo needs from a run folder (request lines only when asked)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: not a directory")
    return RunData(
        run_dir=run_dir,
        run=run.read_run(run_dir),
        probes=probes.read_probes(run_dir),
        events=events.read_events(run_dir),
        ledger=ledger.read_ledger(run_dir),
        readback=readback.read_readback(run_dir),
        requests=requests.read_requests(run_dir) if with_requests else None,
    )

"""`requests/<writer-id>.jsonl` (docs/run-folder.md): per-second, per-endpoint latency
histograms and outcome counts, one file per load-generator process.

Writer: `RequestsWriter` (the recorder, `loadtests/recorder.py`, one per process).
Reader: `read_requests` (strict: exit 2 naming file and line), used by the report and by
the load generator's own summary. The `hist` text is kept encoded here: decoding is the
codec's work (`bedrock.histograms`), done one second at a time to bound memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bedrock.errors import InputError
from bedrock.runfolder.jsonl import encode_line, get, read_rows

FOLDER = "requests"


@dataclass(frozen=True)
class RequestLine:
    t: int
    endpoint: str
    hist_b64: str
    outcomes: dict[str, int]
    where: str  # "requests/a.jsonl:12" for error messages


def folder_of(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / FOLDER


def files_of(run_dir: str | os.PathLike[str]) -> list[Path]:
    folder = folder_of(run_dir)
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


def make_folder(run_dir: str | os.PathLike[str]) -> Path:
    folder = folder_of(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class RequestsWriter:
    """Appends lines to `requests/<writer_id>.jsonl`; each `write` is one append."""

    def __init__(self, run_dir: str | os.PathLike[str], writer_id: str) -> None:
        self.path = folder_of(run_dir) / f"{writer_id}.jsonl"

    def write(self, lines: list[dict[str, Any]], *, compact: bool = True) -> None:
        """Append `lines` in one write (`compact=False`: spaced like `json.dumps`)."""
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = b"".join(encode_line(line, compact=compact) for line in lines)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def line(t: int, endpoint: str, hist_b64: str, outcomes: dict[str, int]) -> dict[str, Any]:
    return {"t": t, "endpoint": endpoint, "hist": hist_b64, "outcomes": outcomes}


def read_request_file(path: Path) -> list[RequestLine]:
    lines: list[RequestLine] = []
    for lineno, o in read_rows(path):
        where = f"{path}:{lineno}"
        outcomes = get(o, "outcomes", dict, where)
        if not all(type(v) is int and v >= 0 for v in outcomes.values()):
            raise InputError(f"{where}: key 'outcomes' must map outcome -> count (>= 0)")
        lines.append(
            RequestLine(
                t=int(get(o, "t", (int, float), where)),
                endpoint=get(o, "endpoint", str, where),
                hist_b64=get(o, "hist", str, where),
                outcomes=outcomes,
                where=where,
            )
        )
    return lines


def read_requests(run_dir: str | os.PathLike[str]) -> list[RequestLine] | None:
    """Every line of every requests file, by second; None when no load was recorded."""
    files = files_of(run_dir)
    if not files:
        return None
    lines: list[RequestLine] = []
    for path in files:
        lines.extend(read_request_file(path))
    lines.sort(key=lambda r: r.t)
    return lines

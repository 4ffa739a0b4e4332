"""`metrics.json` (docs/run-folder.md): Prometheus range queries over the run window.

Writer: `write_metrics` (orchestration's evidence collection). Reader: `read_metrics`
(the report's replica plot; strict: a bare NaN or Infinity is refused with file and line,
while Prometheus's own "NaN" sample strings are data the reader of a series skips).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bedrock.runfolder.jsonl import present, read_json, write_json

FILE = "metrics.json"


def path_of(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / FILE


def write_metrics(
    run_dir: str | os.PathLike[str],
    start_wall: float,
    end_wall: float,
    step_s: int,
    queries: dict[str, Any],
) -> None:
    doc = {"start": start_wall, "end": end_wall, "step_s": step_s, "queries": queries}
    write_json(path_of(run_dir), doc, indent=None)


def read_metrics(run_dir: str | os.PathLike[str]) -> Any | None:
    """The document, or None when the run recorded none."""
    path = path_of(run_dir)
    return read_json(path) if present(path) else None

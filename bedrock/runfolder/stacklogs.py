"""`stack-logs/*.log` (docs/run-folder.md): what each stack process logged during the run,
read by people, not by the verdict. Writer: `write_slice` (orchestration's evidence
collection; the durability benchmark). No reader in the product."""

from __future__ import annotations

import os
from pathlib import Path

FOLDER = "stack-logs"


def folder_of(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / FOLDER


def write_slice(run_dir: str | os.PathLike[str], name: str, data: bytes) -> Path:
    """One process's slice of its log, whole."""
    folder = folder_of(run_dir)
    folder.mkdir(exist_ok=True)
    path = folder / Path(name).name  # a log's name, never a path out of the folder
    path.write_bytes(data)
    return path

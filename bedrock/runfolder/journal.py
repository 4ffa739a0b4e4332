"""`journal.json` (docs/run-folder.md): Chaos Toolkit's journal of the experiment, unchanged.

Writer: Chaos Toolkit itself, told where by `path_of` (`chaos run --journal-path`).
Reader: `read_journal` (orchestration checks that the fault ran)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bedrock.errors import InputError
from bedrock.runfolder.jsonl import read_json

FILE = "journal.json"


def path_of(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / FILE


def read_journal(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The journal, None when the experiment left none or an unreadable one."""
    path = path_of(run_dir)
    if not path.is_file():
        return None
    try:
        doc = read_json(path)
    except InputError:
        return None
    return doc if isinstance(doc, dict) else None

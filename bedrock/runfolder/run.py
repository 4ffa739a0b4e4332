"""`run.json` (docs/run-folder.md, schema `gameday.run/1`): what the run was and when.

Writer: `write_run` (orchestration at the start and the end of a run, and when a dead
runner's folder is marked). Readers: `read_run` (strict: the report) and `find_runs`
(the folders of a runs root that hold one).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bedrock.errors import InputError
from bedrock.runfolder.jsonl import NUM, present, read_json, write_json

FILE = "run.json"
SCHEMA = "gameday.run/1"


def path_of(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / FILE


def is_run_folder(folder: str | os.PathLike[str]) -> bool:
    return path_of(folder).exists()


def find_runs(runs_root: str | os.PathLike[str]) -> list[Path]:
    """The run folders directly under `runs_root`, by name (a timestamp first)."""
    return [p.parent for p in sorted(Path(runs_root).glob(f"*/{FILE}"))]


def write_run(run_dir: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Write run.json whole (temporary file, then rename: a reader never sees half)."""
    write_json(path_of(run_dir), record)


def _check(run: Any, path: Path) -> dict[str, Any]:
    if not isinstance(run, dict) or run.get("schema") != SCHEMA:
        raise InputError(f"{path}: key 'schema' must be '{SCHEMA}'")
    if run.get("expect", "hold") not in ("hold", "breach"):
        raise InputError(f"{path}: key 'expect' must be 'hold' or 'breach'")
    for key in ("started_wall", "ended_wall", "started_mono", "ended_mono"):
        if run.get(key) is not None and type(run[key]) not in NUM:
            raise InputError(f"{path}: key '{key}' must be a number (got {run[key]!r})")
    windows = run.get("windows_s")
    if windows is not None:
        if not isinstance(windows, dict):
            raise InputError(f"{path}: key 'windows_s' must map phase -> seconds")
        for name, value in windows.items():
            if type(value) not in NUM or value < 0:
                raise InputError(f"{path}: key 'windows_s.{name}' must be seconds (got {value!r})")
    return run


def read_run(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """run.json checked against `gameday.run/1`; InputError naming the file and key."""
    path = path_of(run_dir)
    if not present(path):
        raise InputError(f"{path}: missing (not a run folder?)")
    return _check(read_json(path), path)

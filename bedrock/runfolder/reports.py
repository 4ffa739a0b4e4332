"""The verdict files (docs/run-folder.md, docs/slo.md): `results.json`, `report.md`,
`report.html`, `junit.xml`, in a run folder or a trials group's folder.

Writer: `write_reports` (slo's rendering of a run and of a trials group), each file whole
and renamed into place. Readers: `read_results` (strict: NaN, infinities and bad bytes
refused with file and line; the typed model is slo's `Results`, validated by slo, which
sits above this layer) and `read_results_or_none` for summaries that show '-' for a run
that has none; `junit_path`/`html_path` for the suite summary that links and merges them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bedrock.errors import InputError
from bedrock.runfolder.jsonl import present, read_json
from bedrock.runfolder.run import is_run_folder

RESULTS = "results.json"
MARKDOWN = "report.md"
HTML = "report.html"
JUNIT = "junit.xml"
FILES = (RESULTS, MARKDOWN, HTML, JUNIT)
RUN_SCHEMA = "gameday.results/1"
TRIALS_SCHEMA = "gameday.trials/1"


def results_path(folder: str | os.PathLike[str]) -> Path:
    return Path(folder) / RESULTS


def has_results(folder: str | os.PathLike[str]) -> bool:
    return results_path(folder).is_file()


def junit_path(folder: str | os.PathLike[str]) -> Path:
    return Path(folder) / JUNIT


def html_path(folder: str | os.PathLike[str]) -> Path:
    return Path(folder) / HTML


def markdown_path(folder: str | os.PathLike[str]) -> Path:
    return Path(folder) / MARKDOWN


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_reports(
    folder: str | os.PathLike[str], results_json: str, markdown: str, html: str, junit: str
) -> list[Path]:
    """The four files, each whole (temporary file, then rename); their paths."""
    paths = [Path(folder) / name for name in FILES]
    texts = (results_json.rstrip("\n") + "\n", markdown, html, junit)
    for path, text in zip(paths, texts, strict=True):
        _write(path, text)
    return paths


def write_junit(folder: str | os.PathLike[str], xml: str) -> Path:
    path = junit_path(folder)
    _write(path, xml)
    return path


def read_results(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """results.json as a mapping (schema gameday.results/1 or gameday.trials/1)."""
    path = results_path(folder)
    if not present(path):
        raise InputError(f"{path}: missing (not reported yet?)")
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a JSON object")
    return doc


def read_results_or_none(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """results.json, or None when the folder has none (InputError when it is bad)."""
    return read_results(folder) if has_results(folder) else None


def is_trials_group(folder: str | os.PathLike[str]) -> bool:
    """A trials group: a results.json of schema gameday.trials/1 and no run.json."""
    if is_run_folder(folder) or not has_results(folder):
        return False
    return read_results(folder).get("schema") == TRIALS_SCHEMA


def folders_with_results(root: str | os.PathLike[str]) -> list[Path]:
    """`root` and every folder under it that holds a results.json (a trials group's trials)."""
    return [p.parent for p in sorted(Path(root).glob(f"**/{RESULTS}"))]

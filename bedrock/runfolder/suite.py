"""A suite's folder (`gameday suite`): `summary.json` (schema `gameday.suite/1`),
`summary.md`, `summary.html`, and a `junit.xml` merging its runs' (`reports.junit_path`).

Writer: `write_summary` (gameday's suite summary). Reader: `read_summary`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bedrock.errors import InputError
from bedrock.runfolder.jsonl import read_json, write_json

JSON = "summary.json"
MARKDOWN = "summary.md"
HTML = "summary.html"
SCHEMA = "gameday.suite/1"


def html_path(folder: str | os.PathLike[str]) -> Path:
    return Path(folder) / HTML


def write_summary(folder: str | os.PathLike[str], doc: dict[str, Any], markdown: str, html: str) -> Path:
    """summary.json, summary.md and summary.html; the HTML page's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / JSON, doc)
    (folder / MARKDOWN).write_text(markdown, encoding="utf-8")
    (folder / HTML).write_text(html, encoding="utf-8")
    return folder / HTML


def read_summary(folder: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(folder) / JSON
    doc = read_json(path)
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise InputError(f"{path}: key 'schema' must be '{SCHEMA}'")
    return doc

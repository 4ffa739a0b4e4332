"""The process's live board, if a live view is on (`gameday run/nightly` without --no-live)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gameday.live.board import LiveBoard

_board: LiveBoard | None = None


def install(board: LiveBoard | None) -> None:
    global _board
    _board = board


def current() -> LiveBoard | None:
    return _board


def run_started(run_dir: Path, name: str, planned_s: float) -> None:
    if _board is not None:
        _board.run_started(run_dir, name, planned_s)


def phase(name: str) -> None:
    if _board is not None:
        _board.set_phase(name)


def tick(figures: dict[str, Any]) -> None:
    if _board is not None:
        _board.tick(figures)


def run_finished(word: str, summary: str, aborted: str | None, report: Path | None) -> None:
    if _board is not None:
        _board.run_finished(word, summary, aborted, report)

"""Write the trend page (`gameday trend`); slo/trend.py renders it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from slo.pages import write_page
from slo.trend import RunRow, trend_html


def write_trend(rows: Sequence[RunRow], out: Path, history: str = "") -> Path:
    return write_page(out, trend_html(rows, history=history))

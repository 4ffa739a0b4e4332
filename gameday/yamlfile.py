"""Compatibility: the hardened reader lives in `bedrock.loader` (use `load_data`/`load_model`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bedrock.loader import load_data


def read_yaml(path: Path | str) -> Any:
    return load_data(path)

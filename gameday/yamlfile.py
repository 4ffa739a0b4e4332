"""Read a YAML file for validation: every failure is a ConfigError naming the file (and line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gameday.errors import ConfigError


def read_yaml(path: Path | str) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"(file): cannot read: {exc.strerror}"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise ConfigError(
            str(path), [f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}"]
        ) from None

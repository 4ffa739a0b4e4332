"""Where the integration tests keep the stack's logs: never inside the checkout."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV = "GAMEDAY_TEST_LOGS"


def log_keep_folder(environ: Mapping[str, str] = os.environ, repo: Path = REPO) -> Path:
    """`$GAMEDAY_TEST_LOGS`, else `<tmp>/gameday-test-logs`. A folder inside the checkout is
    refused (pytest.UsageError): nothing a test writes may land there."""
    chosen = environ.get(ENV) or str(Path(tempfile.gettempdir()) / "gameday-test-logs")
    path = Path(chosen).resolve()
    repo = repo.resolve()
    if path == repo or repo in path.parents:
        raise pytest.UsageError(
            f"{ENV}={chosen} is inside the checkout {repo}: use a folder outside it"
        )
    return path

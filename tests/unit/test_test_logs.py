"""The integration tests' logs never land in the checkout."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.support.test_logs import REPO, log_keep_folder


def test_default_is_under_the_system_tmp_not_the_checkout() -> None:
    path = log_keep_folder({})
    assert path.parent == Path(tempfile.gettempdir()).resolve()
    assert REPO not in path.parents


def test_the_variable_chooses_the_folder(tmp_path: Path) -> None:
    assert log_keep_folder({"GAMEDAY_TEST_LOGS": str(tmp_path / "logs")}) == tmp_path / "logs"


@pytest.mark.parametrize("inside", ["test-logs", ".", "tests/../x"])
def test_a_folder_inside_the_checkout_is_refused(inside: str, tmp_path: Path) -> None:
    repo = tmp_path / "checkout"
    repo.mkdir()
    with pytest.raises(pytest.UsageError, match="inside the checkout"):
        log_keep_folder({"GAMEDAY_TEST_LOGS": str(repo / inside)}, repo)

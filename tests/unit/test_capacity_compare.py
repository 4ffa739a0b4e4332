"""`gameday compare` on two capacity run folders: knees judged by their intervals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.cli import main
from slo.capacity_compare import compare_capacity, load_capacity
from tests.support.capacity_synth import write_capacity_run


def test_same_capacity_twice_is_no_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_capacity_run(tmp_path / "a", knee_per_replica=400)
    b = write_capacity_run(tmp_path / "b", knee_per_replica=410)
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "knee at 3 replica(s)" in out and "overlap" in out
    assert "no regression beyond tolerances" in out


def test_a_knee_wholly_below_the_base_interval_regresses(tmp_path: Path) -> None:
    a = load_capacity(write_capacity_run(tmp_path / "a", knee_per_replica=400))
    b = load_capacity(write_capacity_run(tmp_path / "b", knee_per_replica=150))
    rows = {r.figure: r for r in compare_capacity(a, b)}
    knee = rows["knee at 1 replica(s)"]
    assert knee.regression and "wholly below the base's" in knee.note
    assert rows["replicas for target (linear)"].regression
    assert not rows["USL sigma"].regression  # shown, not judged


def test_not_a_capacity_document_is_bad_input(tmp_path: Path) -> None:
    run = tmp_path / "x"
    run.mkdir()
    (run / "capacity.json").write_text(json.dumps({"schema": "other/1"}))
    with pytest.raises(Exception, match="not a gameday.capacity document"):
        load_capacity(run)

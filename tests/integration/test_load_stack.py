"""Each load shape, shortened, against the real stack: histograms, outcomes, a ledger, and
every acknowledged write present in the database afterwards (no fault injected)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock.runfolder.ledger import read_ledger
from gameday.collect import read_back_ledger
from loadtests import runner
from loadtests.histograms import load_cells
from stack.control import Stack

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("scenario", ["progressive", "spike", "stress", "endurance"])
def test_shape_records_and_loses_no_write(
    healthy_stack: Stack, tmp_path: Path, scenario: str
) -> None:
    run_dir = tmp_path / f"run-{scenario}"
    planned = runner.planned_duration_s(runner.build_settings(scenario, "ci", run_dir))
    handle = runner.start(
        scenario,
        "ci",
        healthy_stack.entry_url,
        run_dir,
        time_scale=8.0 / planned,
        client=f"it-{scenario}",
    )
    assert handle.wait(120) == 0, (run_dir / "load.log").read_text()[-2000:]
    cells = load_cells(run_dir)
    assert cells, "no per-second histograms written"
    endpoints = {endpoint for _, endpoint in cells}
    assert {"GET /items/{id}", "POST /ledger"} <= endpoints
    assert sum(c.outcomes.get("ok", 0) for c in cells.values()) > 0
    ledger = read_ledger(run_dir) or []
    acked = {e.seq for e in ledger if e.outcome == "acknowledged"}
    assert len(acked) >= 10
    assert read_back_ledger(healthy_stack.entry_url, f"it-{scenario}", run_dir) is not None
    present = json.loads((run_dir / "readback.json").read_text())["present_ranges"]
    stored = {seq for lo, hi in present for seq in range(lo, hi + 1)}
    assert acked - stored == set(), "acknowledged writes missing from the database"

"""The fault journal: faults are values, entries survive the process, any process clears them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stack import faults
from stack.faults import DirJournal, Fault, MemoryJournal


def test_a_fault_is_a_frozen_value_with_a_checked_undo() -> None:
    fault = faults.region_down("primary")
    assert fault == Fault("region", "region:primary", ("restore-region", "primary"))
    assert hash(fault) == hash(faults.region_down("primary"))
    with pytest.raises(AttributeError):
        fault.kind = "kill"  # type: ignore[misc]
    with pytest.raises(ValueError, match="bad undo"):
        Fault("kill", "program:x", ("start",))  # the verb needs its program
    with pytest.raises(ValueError, match="bad undo"):
        Fault("kill", "program:x", ("reboot", "x"))


@pytest.mark.parametrize("journal_kind", ["dir", "memory"])
def test_record_list_clear(tmp_path: Path, journal_kind: str) -> None:
    journal = DirJournal(tmp_path / "faults") if journal_kind == "dir" else MemoryJournal()
    assert journal.entries() == []
    journal.record(faults.latency_added("primary"), delay_ms=250)
    journal.record(faults.network_rule("127.0.1.31"))
    journal.record(faults.latency_added("primary"), delay_ms=300)  # same fault: one entry
    entries = journal.entries()
    assert sorted(e.fault.kind for e in entries) == ["latency", "nftables"]
    latency = next(e for e in entries if e.fault.kind == "latency")
    assert latency.detail == {"delay_ms": 300}
    assert journal.clear(faults.latency_added("primary")) is True
    assert journal.clear(faults.latency_added("primary")) is False
    assert journal.clear_where(kind="nftables") == [faults.network_rule("127.0.1.31")]
    assert journal.entries() == []


def test_entries_are_durable_files_another_process_reads_and_clears(tmp_path: Path) -> None:
    path = tmp_path / "faults"
    DirJournal(path).record(faults.region_down("primary"), how="frozen")
    assert [p.name for p in path.iterdir()] == ["region--region_primary.json"]  # no temp file
    doc = json.loads((path / "region--region_primary.json").read_text())
    assert doc["undo"] == ["restore-region", "primary"] and doc["detail"] == {"how": "frozen"}
    code = (
        "import sys; from pathlib import Path; from stack.faults import DirJournal, region_down;"
        "j = DirJournal(Path(sys.argv[1])); print(len(j.entries()));"
        "print(j.clear(region_down('primary')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["1", "True"]
    assert DirJournal(path).entries() == []


def test_an_unreadable_entry_is_skipped_not_fatal(tmp_path: Path) -> None:
    journal = DirJournal(tmp_path)
    journal.record(faults.program_killed("redis-primary-1"))
    (tmp_path / "torn.json").write_text("{not json")
    assert [e.fault for e in journal.entries()] == [faults.program_killed("redis-primary-1")]

"""Database truth's reading of a run's ledger: only acknowledged writes count."""

from __future__ import annotations

from pathlib import Path

from bedrock.runfolder.ledger import acknowledged, write_ledger
from loadtests.ledger import ledger_line


def test_only_acknowledged_seqs_are_counted(tmp_path: Path) -> None:
    statuses = [201, 503, None, 201]
    write_ledger(tmp_path, [ledger_line("run-1", i, 1.0, 1.1, s) for i, s in enumerate(statuses, 1)])
    (tmp_path / "ledger.jsonl").write_text((tmp_path / "ledger.jsonl").read_text() + "\n")
    assert acknowledged(tmp_path) == ("run-1", {1, 4})


def test_an_empty_ledger_acknowledges_nothing(tmp_path: Path) -> None:
    write_ledger(tmp_path, [])
    assert acknowledged(tmp_path) == ("", set())

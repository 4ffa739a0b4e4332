"""Database truth's reading of a run's ledger: only acknowledged writes count."""

from __future__ import annotations

import json
from pathlib import Path

from stack.ledger_truth import acknowledged


def test_only_acknowledged_seqs_are_counted(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    outcomes = ["acknowledged", "failed", "indeterminate", "acknowledged"]
    lines = [
        json.dumps({"seq": i, "client": "run-1", "outcome": o}) for i, o in enumerate(outcomes, 1)
    ]
    ledger.write_text("\n".join(lines) + "\n\n")
    assert acknowledged(ledger) == ("run-1", {1, 4})


def test_an_empty_ledger_acknowledges_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("")
    assert acknowledged(ledger) == ("", set())

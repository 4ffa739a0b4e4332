"""A damaged run folder is refused (exit 2 naming the file), never judged as if a record were
simply missing: a folder, FIFO or looping link where `slo.yaml` or a record belongs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bedrock.errors import InputError
from slo.evaluation import evaluate

FIXTURE = (
    Path(__file__).resolve().parents[1] / "support" / "fixtures" / "run-2026-12-04-kill-region"
)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    dst = tmp_path / "run"
    shutil.copytree(FIXTURE, dst)
    return dst


@pytest.mark.parametrize(
    "name",
    ["slo.yaml", "events.jsonl", "probes.jsonl", "ledger.jsonl", "readback.json", "run.json"],
)
@pytest.mark.parametrize("kind", ["folder", "symlink loop"])
def test_something_other_than_a_file_is_refused(run_dir: Path, name: str, kind: str) -> None:
    target = run_dir / name
    target.unlink()
    if kind == "folder":
        target.mkdir()
    else:
        os.symlink(target.name, target)  # points at itself
    with pytest.raises(InputError) as info:
        evaluate(run_dir)
    assert info.value.exit_code == 2
    assert str(target) in str(info.value)


def test_an_absent_record_is_still_inconclusive_not_an_error(run_dir: Path) -> None:
    (run_dir / "readback.json").unlink()
    results = evaluate(run_dir)  # no read-back: the RPO cannot be decided
    assert results.slo("rpo").status == "inconclusive"
    assert results.slo("failover").status == "pass"

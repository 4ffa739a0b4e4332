"""Run folders whose runner died: told apart from live ones by a lock, judged INCONCLUSIVE."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gameday.interrupted import hold_runner_lock, interrupted_runs, mark_interrupted, runner_alive
from slo import evaluate
from tests.conftest import run_cli
from tests.support.slo_synth import write_run


def _unfinished(run_dir: Path, **knobs: object) -> None:
    write_run(run_dir, **knobs)  # type: ignore[arg-type]
    record = json.loads((run_dir / "run.json").read_text())
    record["ended_wall"] = None
    (run_dir / "run.json").write_text(json.dumps(record))


def test_a_live_runner_holds_its_folder(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "r1"
    _unfinished(run_dir, fault_at_s=None, experiment=None, lost=0)
    fd = hold_runner_lock(run_dir)
    try:
        assert runner_alive(run_dir)
        assert interrupted_runs(tmp_path / "runs") == []
    finally:
        os.close(fd)
    assert not runner_alive(run_dir)
    assert [p for p, _ in interrupted_runs(tmp_path / "runs")] == [run_dir]


def test_a_sigkilled_runner_frees_its_folder(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    code = (
        "import sys, time; from pathlib import Path; from gameday.interrupted import "
        "hold_runner_lock; hold_runner_lock(Path(sys.argv[1])); print('held', flush=True); "
        "time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert runner_alive(run_dir)
    finally:
        proc.kill()
        proc.wait(30)
    assert not runner_alive(run_dir)


def test_a_dead_run_is_marked_and_judged_inconclusive(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    passing, failing, finished = runs / "a", runs / "b", runs / "c"
    _unfinished(passing, fault_at_s=None, experiment=None, lost=0)
    _unfinished(failing, lost=42)  # lost writes: would fail if it had finished
    write_run(finished, fault_at_s=None, experiment=None, lost=0)
    # Each had a runner holding its lock; the runners are gone (their descriptors closed).
    for fd in [hold_runner_lock(run_dir) for run_dir in (passing, failing)]:
        os.close(fd)
    lines: list[str] = []
    marked = mark_interrupted(runs, lines.append)
    assert sorted(marked) == [passing, failing], lines
    for run_dir in (passing, failing):
        record = json.loads((run_dir / "run.json").read_text())
        assert record["interrupted"]["runner_died"] is True
        assert "died before the run finished" in record["aborted"]
        assert record["ended_wall"] <= time.time()
        results = evaluate(run_dir)
        assert results.verdict.status == "inconclusive", results.verdict.summary
        assert results.verdict.exit_code == 3
        assert results.verdict.summary.startswith("interrupted:")
    report = run_cli("report", str(failing))
    assert report.returncode == 3, report.stdout + report.stderr
    assert (failing / "report.md").exists()
    assert "interrupted" not in json.loads((finished / "run.json").read_text())
    assert mark_interrupted(runs, lines.append) == []  # marked once

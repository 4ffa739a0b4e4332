"""A run folder keeps what the stack logged during the run, and only that."""

from __future__ import annotations

from pathlib import Path

from gameday import collect
from gameday.collect import copy_stack_logs, stack_log_offsets


def test_the_slice_is_what_was_written_during_the_run(tmp_path: Path) -> None:
    logs, run = tmp_path / "logs", tmp_path / "run"
    logs.mkdir()
    run.mkdir()
    (logs / "pg-primary.log").write_text("before the run\n")
    (logs / "etcd-primary.log").write_text("quiet\n")
    offsets = stack_log_offsets(logs)
    with (logs / "pg-primary.log").open("a") as fh:
        fh.write("promoted self to leader\n")
    (logs / "failover-1.log").write_text("started during the run\n")

    copied = copy_stack_logs(logs, offsets, run)

    assert copied == ["failover-1.log", "pg-primary.log"]  # etcd logged nothing: no file
    assert (run / "stack-logs" / "pg-primary.log").read_text() == "promoted self to leader\n"
    assert (run / "stack-logs" / "failover-1.log").read_text() == "started during the run\n"


def test_a_log_that_shrank_is_copied_from_its_start(tmp_path: Path) -> None:
    logs, run = tmp_path / "logs", tmp_path / "run"
    logs.mkdir()
    run.mkdir()
    (logs / "pg-secondary.log").write_text("x" * 100)
    offsets = stack_log_offsets(logs)
    (logs / "pg-secondary.log").write_text("rotated\n")

    copy_stack_logs(logs, offsets, run)

    assert (run / "stack-logs" / "pg-secondary.log").read_text() == "rotated\n"


def test_a_huge_slice_keeps_its_end(tmp_path: Path) -> None:
    logs, run = tmp_path / "logs", tmp_path / "run"
    logs.mkdir()
    run.mkdir()
    offsets = stack_log_offsets(logs)
    cap = collect.STACK_LOG_CAP_BYTES
    (logs / "api-primary-0.log").write_bytes(b"a" * cap + b"THE END\n")

    copy_stack_logs(logs, offsets, run)

    kept = (run / "stack-logs" / "api-primary-0.log").read_bytes()
    assert len(kept) == cap and kept.endswith(b"THE END\n")


def test_no_logs_folder_copies_nothing(tmp_path: Path) -> None:
    assert copy_stack_logs(tmp_path / "absent", {}, tmp_path) == []
    assert not (tmp_path / "stack-logs").exists()

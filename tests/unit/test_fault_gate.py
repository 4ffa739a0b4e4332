"""experiments.gate: the method runs only once the runner opens the gate (known inputs)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from chaoslib.exceptions import InterruptExecution

from experiments.gate import OPEN, wait_for_gate


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read, write = os.pipe()
    yield read, write
    for fd in (read, write):
        try:
            os.close(fd)
        except OSError:
            pass


def test_open_gate_lets_the_method_run(pipe: tuple[int, int]) -> None:
    read, write = pipe
    os.write(write, OPEN)
    wait_for_gate(read, timeout_s=5.0)  # returns: the method runs


def test_closed_gate_interrupts_before_any_fault(pipe: tuple[int, int]) -> None:
    read, write = pipe
    os.close(write)  # the runner died or gave up
    with pytest.raises(InterruptExecution, match="closed the fault gate"):
        wait_for_gate(read, timeout_s=5.0)


def test_other_bytes_do_not_open_it(pipe: tuple[int, int]) -> None:
    read, write = pipe
    os.write(write, b"x")
    with pytest.raises(InterruptExecution):
        wait_for_gate(read, timeout_s=5.0)


def test_gate_that_never_opens_times_out(pipe: tuple[int, int]) -> None:
    read, _ = pipe
    with pytest.raises(InterruptExecution, match="did not open within"):
        wait_for_gate(read, timeout_s=0.05)

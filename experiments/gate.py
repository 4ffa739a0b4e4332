"""A Chaos Toolkit control that holds the experiment's method until the runner opens a gate.

`gameday run` starts the Chaos Toolkit process a little before the baseline ends, so its
start-up and the steady-state probes overlap the baseline, and the fault lands at the
fault phase's first instant instead of ~1 s into it. The runner passes the read end of a
pipe (GAMEDAY_FAULT_GATE_FD, loaded through experiments/controls/fault-gate.json with
`chaos run --control-file`) and writes one byte when the fault phase begins.

Nothing is injected unless the gate opens: end of file (the runner died or gave up) or the
deadline interrupts the experiment before its method. Without the variable (a plain
`chaos run`) the control does nothing.
"""

from __future__ import annotations

import os
import select
import time
from typing import Any

from chaoslib.exceptions import InterruptExecution

GATE_FD_ENV = "GAMEDAY_FAULT_GATE_FD"
GATE_TIMEOUT_ENV = "GAMEDAY_FAULT_GATE_TIMEOUT_S"
OPEN = b"1"


def wait_for_gate(fd: int, timeout_s: float) -> None:
    """Return when OPEN arrives on `fd`; raise InterruptExecution on EOF, other bytes or timeout."""
    end = time.monotonic() + timeout_s
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise InterruptExecution(f"the fault gate did not open within {timeout_s:.0f} s")
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if not ready:
            continue
        data = os.read(fd, 1)
        if data == OPEN:
            return
        raise InterruptExecution("the runner closed the fault gate: no fault is injected")


def before_method_control(context: Any, **kwargs: Any) -> None:
    raw = os.environ.get(GATE_FD_ENV, "")
    if not raw:
        return
    timeout_s = float(os.environ.get(GATE_TIMEOUT_ENV, "120"))
    wait_for_gate(int(raw), timeout_s)

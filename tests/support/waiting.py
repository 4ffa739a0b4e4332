"""The one wait helper of the tests: poll a condition until it holds, with a deadline.

Never a fixed sleep: `wait_for` returns the condition's first truthy value as soon as it
appears. A condition may raise while what it watches is starting or recovering: the error is
kept and shown if the deadline passes (AssertionError naming what was awaited).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(
    cond: Callable[[], Any], deadline_s: float, what: str, interval_s: float = 0.05
) -> Any:
    end = time.monotonic() + deadline_s
    last: Any = None
    while True:
        try:
            last = cond()
        except Exception as exc:  # noqa: BLE001 - a condition may raise while things start
            last = exc
        else:
            if last:
                return last
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {deadline_s} s waiting for {what} (last: {last!r})")
        time.sleep(interval_s)

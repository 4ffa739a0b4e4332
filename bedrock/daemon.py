"""The one daemon base for the failover controller and the local autoscaler.

Shape (model: patroni `patroni/daemon.py` `AbstractPatroniDaemon` and `ha.py` `run_cycle`):

- `run_cycle()` decides once and returns one sentence saying what it decided; `run()` logs it
  once, warns when a cycle took longer than the period, and never tries to catch up after an
  overrun (the next cycle starts at once, then the schedule continues from there);
- a signal handler only sets a flag (`request_stop()` writes one bool: no lock is taken in a
  handler); other threads may also set `stop_flag` (a `threading.Event`);
- between cycles `idle_until(t)` waits (in short slices, so a signal is noticed quickly);
  a subclass may do light work there (the autoscaler watches readiness);
- `stopped()` runs once after the loop (release a lock, let an in-flight action finish).

Long actions never run inside a cycle: subclasses hand them to a worker and report
"in progress" (patroni `async_executor.py`). No reload on SIGHUP (neither daemon has a
reloadable config yet). This module imports nothing of ours.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Daemon(ABC):
    #: longest single wait between cycles, so a stop request is seen within this many seconds
    wait_slice_s = 0.2
    #: errors a cycle may raise that become its sentence ("cycle failed: ...") instead of
    #: ending the loop
    cycle_errors: tuple[type[Exception], ...] = ()

    def __init__(
        self,
        *,
        period_s: float,
        log: logging.Logger,
        loop_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if period_s <= 0:
            raise ValueError("period_s must be positive")
        self.period_s = period_s
        self.log = log
        self.loop_clock = loop_clock
        self.stop_flag = threading.Event()
        self._signalled = False

    # -- what a daemon provides ----------------------------------------------------------

    @abstractmethod
    def run_cycle(self) -> str:
        """Decide once; return the one sentence saying what was decided ('' to say nothing)."""

    def starting(self) -> None:  # noqa: B027 (an optional hook: empty by design)
        """Once, before the first cycle."""

    def cycle_done(self, sentence: str, took_s: float) -> None:  # noqa: B027 (optional hook)
        """After each cycle (metrics, status)."""

    def overrun(self, took_s: float) -> None:  # noqa: B027 (optional hook)
        """A cycle took longer than the period (after the warning is logged)."""

    def stopped(self) -> None:  # noqa: B027 (optional hook)
        """Once, after the loop ends."""

    def idle_until(self, deadline: float) -> None:
        """Wait until `deadline` (loop clock) or a stop request."""
        while not self.stopping:
            left = deadline - self.loop_clock()
            if left <= 0:
                return
            self.stop_flag.wait(min(left, self.wait_slice_s))

    # -- control -------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Safe from a signal handler: sets one bool, takes no lock."""
        self._signalled = True

    @property
    def stopping(self) -> bool:
        return self._signalled or self.stop_flag.is_set()

    @contextmanager
    def signals_stop(self, signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
        """SIGTERM/SIGINT request a stop while inside; the previous handlers come back after."""

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self.request_stop()  # only a flag: the loop does the work

        previous = {s: signal.signal(s, on_signal) for s in signals}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    # -- the loop ------------------------------------------------------------------------

    def run(self, max_cycles: int | None = None) -> int:
        """Cycle every `period_s` until stopped (or `max_cycles`); returns the cycles run."""
        cycles = 0
        self.starting()
        next_at = self.loop_clock()
        while not self.stopping:
            started = self.loop_clock()
            try:
                sentence = self.run_cycle()
            except self.cycle_errors as exc:
                sentence = f"cycle failed: {exc}"
            if sentence:
                self.log.info("%s", sentence)
            cycles += 1
            took = self.loop_clock() - started
            self.cycle_done(sentence, took)
            if took > self.period_s:
                self.log.warning("cycle took %.2f s, over the %.2f s period", took, self.period_s)
                self.overrun(took)
            if max_cycles is not None and cycles >= max_cycles:
                break
            next_at = max(next_at + self.period_s, self.loop_clock())  # overrun: no catch-up
            self.idle_until(next_at)
        self.stopped()
        return cycles

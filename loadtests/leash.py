"""Run a command on a leash: it and everything it forks end when the runner dies.

    python -m loadtests.leash BOUND_S KILL_AFTER_S -- COMMAND...

The leash is the leader of its own process group (the caller starts it with
`start_new_session`) and runs COMMAND in that group, so Locust's --processes
workers are in it too. It ends the whole group - TERM once, KILL after
KILL_AFTER_S - when any of these happens:
  - the runner that started it dies, by any signal: a parent-death signal
    (PR_SET_PDEATHSIG, SIGUSR1) wakes it at once, and it also checks getppid()
    every 0.2 s (the parent-death signal alone follows the *thread* that forked,
    and one observed kill left a Locust behind);
  - it gets TERM, INT or HUP (`ProcessHandle.stop`);
  - BOUND_S passes (the hard bound coreutils `timeout` used to give; exit 124).
Otherwise it exits with COMMAND's exit code when COMMAND ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from loadtests.lifeline import PR_SET_PDEATHSIG, prctl

POLL_S = 0.2
EXIT_BOUND = 124


class Leash:
    def __init__(self, cmd: Sequence[str], bound_s: float, kill_after_s: float) -> None:
        if os.getpgrp() != os.getpid():
            os.setpgid(0, 0)  # lead our own group: we signal it, never the caller's
        self.parent = os.getppid()
        self.deadline = time.monotonic() + bound_s
        self.kill_after_s = kill_after_s
        self.stop_reason: str | None = None
        self.kill_at: float | None = None
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        signal.signal(signal.SIGUSR1, lambda *_: None)  # wakes the loop; getppid() decides
        prctl(PR_SET_PDEATHSIG, int(signal.SIGUSR1), 0, 0, 0)
        self.child = subprocess.Popen(cmd)  # inherits our process group

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop_reason = self.stop_reason or signal.Signals(signum).name

    def _orphaned(self) -> bool:
        return os.getppid() != self.parent

    def run(self) -> int:
        while self.child.poll() is None:
            if self.stop_reason is None:
                if self._orphaned():
                    self.stop_reason = "the runner died"
                elif time.monotonic() > self.deadline:
                    self.stop_reason = "hard bound"
            if self.stop_reason is not None and self.kill_at is None:
                self._signal_group(signal.SIGTERM)
                self.kill_at = time.monotonic() + self.kill_after_s
            if self.kill_at is not None and time.monotonic() > self.kill_at:
                self._signal_group(signal.SIGKILL)  # takes the leash too
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.child.wait(POLL_S)
        if self.stop_reason is not None:
            self._signal_group(signal.SIGTERM)  # grandchildren the child left behind
        if self.stop_reason == "hard bound":
            return EXIT_BOUND
        return self.child.returncode if self.child.returncode >= 0 else 128 - self.child.returncode

    @staticmethod
    def _signal_group(sig: signal.Signals) -> None:
        """Signal our whole group; our own TERM handler only notes a reason already set."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(os.getpgrp(), sig)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 4 or args[2] != "--":
        print(
            "usage: python -m loadtests.leash BOUND_S KILL_AFTER_S -- COMMAND...", file=sys.stderr
        )
        return 2
    leash = Leash(args[3:], float(args[0]), float(args[1]))
    if leash._orphaned():  # noqa: SLF001 - the runner died before the signal was armed
        leash.stop_reason = "the runner died"
    return leash.run()


if __name__ == "__main__":
    sys.exit(main())

"""Children that die with the runner: a parent-death signal set in the child before exec.

    subprocess.Popen(argv, start_new_session=True, preexec_fn=die_with_parent(signal.SIGTERM))

`PR_SET_PDEATHSIG` makes the kernel signal the child the moment its parent dies, by any
signal (SIGKILL and the OOM killer included). It survives exec but not fork, so a child
with children of its own must end them itself: `loadtests/leash.py` does that for Locust
(and its --processes workers) and the prober. The signal follows the *thread* that
started the child: start children from the main thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
prctl = _libc.prctl


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None]:
    """A `preexec_fn`: ask for `sig` when the parent dies; die now if it already has."""
    parent = os.getpid()

    def arm() -> None:
        if prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            os._exit(126)  # cannot promise to die with the runner: do not start at all
        if os.getppid() != parent:  # the runner died between fork and prctl
            os.kill(os.getpid(), sig)

    return arm

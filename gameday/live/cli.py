"""The live-view options of `gameday run` / `gameday nightly` and the context that serves it."""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator

from bedrock import options
from gameday.live import hub
from gameday.live.board import LiveBoard
from gameday.live.server import LiveServer


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--live-port",
        type=options.integer(0, 65535),
        default=0,
        metavar="PORT",
        help="serve the live view on 127.0.0.1:PORT (default: a free port; the URL is printed)",
    )
    p.add_argument("--no-live", action="store_true", help="do not serve the live view")
    p.add_argument(
        "--live-linger",
        type=options.number(0, 3600),
        default=0.0,
        metavar="S",
        help="keep serving the final verdict S seconds after the runs end (default 0, max 3600)",
    )


@contextlib.contextmanager
def serving(args: argparse.Namespace, say: Callable[[str], None]) -> Iterator[LiveBoard | None]:
    """Serve the live view for the command's duration (unless --no-live)."""
    if getattr(args, "no_live", False):
        yield None
        return
    board = LiveBoard()
    server = LiveServer(board, port=int(args.live_port)).start()
    hub.install(board)
    say(f"live view: {server.url}")
    try:
        yield board
        linger = min(max(float(args.live_linger), 0.0), 3600.0)
        if linger:
            say(f"live view: serving the final verdict for {linger:.0f} s more")
            time.sleep(linger)  # the operator's grace to read it; not a wait on a condition
    finally:
        hub.install(None)
        server.stop()

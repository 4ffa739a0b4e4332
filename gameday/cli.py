"""The `gameday` command line. Each area registers its own subcommands.

An area module exposes `register(subparsers)`; each subcommand sets
`func(args) -> int`. Only this module exits; everything below raises.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bedrock.errors import EXIT_BAD_INPUT, EXIT_INCONCLUSIVE, GamedayError
from bedrock.version import __version__

# Modules that contribute subcommands, in the order they appear in --help.
COMMAND_MODULES = (
    "stack.cli",
    "loadtests.cli",
    "gameday.run_cli",
    "gameday.recover",
    "slo.cli",
    "failover.cli",
    "autoscaler.cli",
    "gameday.capacity.cli",
    "gameday.k8s_cli",
    "gameday.trend.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gameday",
        description=(
            "Resilience suite: bring up the HA stack, load it, break it, and prove "
            "its SLOs with measured numbers."
        ),
        epilog="Exit codes: 0 all SLOs held, 1 an SLO failed, 2 bad input, "
        "3 inconclusive or setup failure.",
    )
    parser.add_argument("--version", action="version", version=f"gameday {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # area not built yet in this checkout
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args))
    except GamedayError as exc:
        print(f"gameday: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        # a path the user named that cannot be read or written (a folder where a file
        # belongs, no space, permission): the message, not a traceback
        if exc.filename is None:
            print(f"gameday: input/output error: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_INCONCLUSIVE
        print(f"gameday: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("gameday: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""argparse types for numbers and names: refused at parse time (usage error, exit 2); the
options several command lines share (`add_state_dir`, `add_log_level`, `add_load_target`) and
`run_parsed`, the error-to-exit-code step of the packages' own `python -m` entry points.

`number(0, 86_400)` accepts a finite float in [0, 86400]; `number(0, 60, low_open=True)`
one in (0, 60]; `integer(1, 1000)` an int. NaN, infinities and `1e400` are never
accepted, and every bound is an upper bound too, so a typo cannot hang a loop.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

from bedrock.errors import GamedayError
from bedrock.names import NAME_PATTERN, REGION_PATTERN, state_dir_problem


def number(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if value < low or (low_open and value == low) or value > high:
            bracket = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"{text} is outside {bracket}{low:g}, {high:g}]")
        return value

    parse.__name__ = "number"
    return parse


def integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside [{low}, {high}]")
        return value

    parse.__name__ = "integer"
    return parse


def region(text: str) -> str:
    if not REGION_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"region {text!r} must match {REGION_PATTERN.pattern}")
    return text


def name(text: str) -> str:
    if not NAME_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"name {text!r} must match {NAME_PATTERN.pattern}")
    return text


def state_dir(text: str) -> Path:
    problem = state_dir_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return Path(text)


def output_file(text: str) -> Path:
    """A file to write: its folder must exist (never created on the user's behalf: a typo in
    the folder is an error, exit 2, not a new tree) and the path must not be a folder."""
    path = Path(text)
    if not text or "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a usable file name")
    parent = path.parent
    try:
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: is a folder, expected a file")
        if not parent.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: the folder {parent} does not exist")
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc.strerror or exc}") from None
    return path


def output_dir(text: str) -> Path:
    """A folder to write into: created when missing, but its parent must exist (as for
    `output_file`: a typo is exit 2, not a new tree), and it must not be a file."""
    path = Path(text)
    if not text or "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a usable folder name")
    try:
        if path.exists() and not path.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: is a file, expected a folder")
        if not path.is_dir() and not path.parent.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: the folder {path.parent} does not exist")
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc.strerror or exc}") from None
    return path


def input_dir(text: str) -> Path:
    """A folder to read (absent is allowed: nothing to read); a file there is refused."""
    path = Path(text)
    try:
        if "\0" in text or (path.exists() and not path.is_dir()):
            raise argparse.ArgumentTypeError(f"{text}: not a folder")
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc.strerror or exc}") from None
    return path


def http_url(text: str) -> str:
    if not text.startswith(("http://", "https://")) or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL")
    return text


def label_value(text: str) -> str:
    """A Prometheus label value we paste into PromQL: no quotes, backslashes or newlines."""
    if not re.fullmatch(r"[A-Za-z0-9_.:/-]{1,128}", text):
        raise argparse.ArgumentTypeError(f"{text!r}: letters, digits and _ . : / - only")
    return text


# -- options several command lines share (one definition each) ----------------------------


def add_state_dir(p: argparse.ArgumentParser, help: str | None = None) -> None:
    """`--state-dir DIR`: a running local stack's state (checked at parse time)."""
    p.add_argument(
        "--state-dir",
        type=state_dir,
        default=None,
        help=help
        or "the local stack's state (default $GAMEDAY_STATE_DIR, else <tmp>/gameday/state)",
    )


def add_log_level(p: argparse.ArgumentParser) -> None:
    """`--log-level`: a daemon's logging threshold."""
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def add_load_target(p: argparse.ArgumentParser, *, run_dir_help: str | None = None) -> None:
    """`--host URL --run-dir DIR [--allow-host H ...]`: where a load client sends and records."""
    p.add_argument("--host", required=True, help="entry URL, e.g. http://127.0.9.1:8080")
    p.add_argument("--run-dir", required=True, type=output_dir, help=run_dir_help or "run folder")
    p.add_argument("--allow-host", action="append", default=[], help="a non-loopback host to allow")


def run_parsed(prog: str, args: argparse.Namespace) -> int:
    """Run a parsed subcommand's `func(args)`: a project error is one line on stderr and its
    exit code, Ctrl-C is 130; no traceback. For the packages' own `python -m` entry points."""
    try:
        return int(args.func(args))
    except GamedayError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130

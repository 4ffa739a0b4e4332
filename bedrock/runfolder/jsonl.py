"""The byte-level rules of the run folder's files, shared by every record module here.

Writing: a JSON-lines file is appended one line per `write(2)` on an O_APPEND descriptor,
so lines from several processes (events.jsonl has many writers) never interleave and a
crash leaves every earlier line intact. A JSON document is written whole to a temporary
file and renamed into place, so a reader never sees half of it.

Reading follows `bedrock.loader`'s rules for bad bytes: NaN, Infinity, numbers that
overflow to inf, bytes that are not UTF-8 and too-deep nesting are refused with an
`InputError` (exit 2) naming the file and line. A torn last line (a crash mid-write) of a
JSON-lines file is skipped: append-only files allow it. Nothing here knows a file name:
each file of docs/run-folder.md has its one module beside this one.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import threading
from pathlib import Path
from typing import Any

from bedrock.errors import InputError
from bedrock.loader import NotFinite, finite_float, read_text, refuse_constant

# -- writing -----------------------------------------------------------------------


def _as_text_if_not_finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _as_text_if_not_finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_text_if_not_finite(v) for v in value]
    return value


def encode_line(obj: dict[str, Any], *, compact: bool = True) -> bytes:
    """One JSON line (compact unless asked). A NaN or infinity is written as text ("nan"),
    never as a number: JSON has none, every reader refuses them as figures, and a writer (a
    daemon in the middle of a failover) must not die of one."""
    seps = (",", ":") if compact else (", ", ": ")
    try:
        text = json.dumps(obj, separators=seps, allow_nan=False, default=str)
    except ValueError:
        text = json.dumps(_as_text_if_not_finite(obj), separators=seps, default=str)
    return (text + "\n").encode()


class JsonlAppender:
    """Keeps one O_APPEND descriptor open; `append(obj)` writes one line in one call.

    Thread-safe (a lock around the write): the failover controller writes from its loop
    and its HTTP handler.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()
        self.lines = 0

    def append(self, obj: dict[str, Any]) -> None:
        data = encode_line(obj)
        with self._lock:
            if self._fd is None:
                raise ValueError(f"{self.path}: appender closed")
            os.write(self._fd, data)
            self.lines += 1

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def append_line(path: str | os.PathLike[str], obj: dict[str, Any]) -> None:
    """Open, append one line, close (for a writer that writes rarely)."""
    with JsonlAppender(path) as app:
        app.append(obj)


def write_lines(path: str | os.PathLike[str], rows: list[dict[str, Any]]) -> None:
    """A whole JSON-lines file at once (synthetic run folders; spaced like `json.dumps`)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(b"".join(encode_line(r, compact=False) for r in rows))


def write_json(path: str | os.PathLike[str], doc: Any, *, indent: int | None = 2) -> None:
    """A whole JSON document, atomically (temporary file, then rename); finite numbers only."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=indent, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(target)


# -- reading -----------------------------------------------------------------------


_NON_FINITE = re.compile(r"(?<![\w\"])(-?Infinity|NaN)(?![\w\"])|[0-9.][eE]\+?[0-9]{3,}")


def loads_finite(text: str, where: str) -> Any:
    """json.loads that refuses NaN, Infinity and numbers overflowing to inf (InputError naming
    `where` and, for a multi-line document, the first line holding one)."""
    try:
        return json.loads(text, parse_constant=refuse_constant, parse_float=finite_float)
    except NotFinite as exc:
        line = next(
            (i for i, raw in enumerate(text.splitlines(), 1) if _NON_FINITE.search(raw)), None
        )
        at = f":{line}" if line is not None and "\n" in text.strip() else ""
        raise InputError(f"{where}{at}: {exc}: refused (bad data is not a figure)") from None
    except RecursionError:
        raise InputError(
            f"{where}: nested too deeply: refused (bad data is not a figure)"
        ) from None
    except ValueError as exc:  # an integer of thousands of digits
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise InputError(f"{where}: {exc}: refused (bad data is not a figure)") from None


MAX_JSON_BYTES = 256 * 1024 * 1024  # metrics.json of a long run is the largest document


def present(path: str | os.PathLike[str]) -> bool:
    """Something is at `path`: a file, or a folder, FIFO or (looping) link that the readers
    refuse (exit 2). Absent means "not recorded" (None, inconclusive); a folder where a
    record belongs is a damaged run folder, not a missing record."""
    return os.path.lexists(path)


def read_json(path: Path) -> Any:
    """A whole JSON file, finite numbers only; InputError naming file (and line) otherwise.
    The bytes go through `bedrock.loader.read_text` (a regular file, bounded, UTF-8)."""
    text = read_text(path, max_bytes=MAX_JSON_BYTES)
    try:
        return loads_finite(text, str(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every line of a JSON-lines file; a torn last line is skipped."""
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise InputError(f"{path}: not a regular file")
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path}:{lineno}: not UTF-8 text (byte {raw[exc.start]:#04x} at {exc.start})"
                ) from None
            if not line.strip():
                continue
            try:
                obj = loads_finite(line, f"{path}:{lineno}")
            except json.JSONDecodeError as exc:
                if lineno > 1 and not line.endswith("\n"):
                    continue  # a torn last line from a crash: append-only files allow it
                raise InputError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object")
            rows.append((lineno, obj))
    return rows


NUM = frozenset({int, float})  # exact types: a bool is not a number here


def get(
    obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, *, null: bool = False
) -> Any:
    """`obj[key]` of type `kind` (a bool is never a number); InputError naming `where` and key."""
    if key not in obj:
        raise InputError(f"{where}: missing key '{key}'")
    value = obj[key]
    if value is None and null:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InputError(f"{where}: key '{key}' has a wrong type ({type(value).__name__})")
    return value


class Tail:
    """New complete lines of a growing JSON-lines file, for live views (the board, the
    safeguard monitor). A live view must not stop on a bad line: lines that are not JSON
    objects are skipped here; the report's reader (`read_rows`) refuses them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def lines(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        out = []
        for raw in data[: end + 1].splitlines():
            try:
                obj = json.loads(raw, parse_constant=refuse_constant, parse_float=finite_float)
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out

"""The one hardened reader of input files: bytes -> YAML or JSON data, or one ConfigError.

Everything a user hands us as a file (topology, SLO spec, suite, experiment,
Kubernetes target, kubeconfig, failover config, HPA manifest, load steps) goes
through here, so every malformed file fails the same way: `ConfigError` (exit 2)
naming the file and the line or key, never a traceback. Refused on purpose:

- anything that is not a regular file (a directory, a FIFO, /dev/zero), OS errors
  (missing, permission, name too long, symlink loop), files over `max_bytes`;
- bytes that are not UTF-8;
- nesting deeper than `MAX_DEPTH`, aliases that expand past `MAX_NODES` nodes
  (billion laughs) or refer to themselves;
- duplicate mapping keys (YAML would silently keep the last one);
- NaN, infinities and numbers too large for a float (`1e400`), in YAML and JSON.

Limits: line numbers are kept for mapping keys and list items of YAML documents
(`Document.lines`); JSON errors name the line of a syntax error, else the key.
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bedrock.errors import ConfigError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000
_MERGE_TAG = "tag:yaml.org,2002:merge"

KeyPath = tuple[str, ...]


@dataclass(frozen=True)
class Document:
    """Parsed data with where it came from; `lines` maps a key path to its 1-based line."""

    data: Any
    source: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of the deepest part of `path` that is known."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


class _Refused(Exception):
    """A problem found while parsing; turned into ConfigError with the file's name."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line

    def text(self) -> str:
        return f"line {self.line}: {self}" if self.line else str(self)


# -- bytes -------------------------------------------------------------------------


def read_text(path: Path | str, *, max_bytes: int = MAX_BYTES) -> str:
    """The file's text: a regular file, at most `max_bytes`, valid UTF-8 (a BOM is dropped)."""
    source = str(path)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(source, ["(file): is a directory, expected a file"])
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(source, ["(file): not a regular file"])
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(source, [f"(file): cannot read: {exc.strerror or exc}"]) from None
    except ValueError as exc:  # embedded NUL in the path
        raise ConfigError(source.replace("\0", "\\0"), [f"(file): bad path: {exc}"]) from None
    if len(raw) > max_bytes:
        raise ConfigError(source, [f"(file): larger than {max_bytes} bytes"])
    return decode(raw, source)


def decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            source, [f"line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at {exc.start})"]
        ) from None


# -- YAML --------------------------------------------------------------------------


# libyaml's parser when present (10x faster); our constructor on top either way
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _event_line(event: yaml.Event) -> int | None:
    mark = event.start_mark
    return int(mark.line) + 1 if mark is not None else None


def _prescan(text: str) -> None:
    """Count events and depth before anything is composed: a flat list of a million
    items or 10,000 nested brackets is refused in the parser's time, not the composer's."""
    depth = 0
    for events, event in enumerate(yaml.parse(text, Loader=_BaseLoader), 1):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", _event_line(event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if events > 2 * MAX_NODES:
            raise _Refused(f"more than {MAX_NODES} values", _event_line(event))


class _Loader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader that refuses duplicate keys and non-finite floats."""

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    raise _Refused("a mapping key must be a plain value", _line(key_node)) from None
                if duplicate:
                    raise _Refused(f"duplicate key {key!r}", _line(key_node))
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def construct_yaml_float(self, node: Node) -> float:
        value: float = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise _Refused(f"{node.value!r} is not a finite number", _line(node))
        return value


_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _check_tree(root: Node, lines: dict[KeyPath, int]) -> None:
    """Depth, alias expansion and self-reference limits; records key lines on the way."""
    sizes: dict[int, int] = {}

    def visit(node: Node, path: KeyPath, active: set[int]) -> int:
        ident = id(node)
        if ident in active:
            raise _Refused("an alias refers to itself", _line(node))
        if ident in sizes:
            return sizes[ident]
        if len(path) > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels", _line(node))
        active.add(ident)
        total = 1
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, ScalarNode) else "?"
                lines.setdefault((*path, str(key)), _line(key_node))
                total += visit(key_node, path, active) + visit(
                    value_node, (*path, str(key)), active
                )
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                lines.setdefault((*path, str(index)), _line(item))
                total += visit(item, (*path, str(index)), active)
        active.discard(ident)
        if total > MAX_NODES:
            raise _Refused(f"expands to more than {MAX_NODES} values (alias bomb?)", _line(node))
        sizes[ident] = total
        return total

    visit(root, (), set())


def _yaml_problem(exc: BaseException) -> str:
    if isinstance(exc, _Refused):
        return exc.text()
    if isinstance(exc, RecursionError):
        return "nested too deeply to parse"
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        return f"{where}invalid YAML: {exc.problem or exc.context}"
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return "a number has too many digits"
    return f"invalid YAML: {str(exc).splitlines()[0]}"


def parse_yaml_documents(text: str, source: str) -> list[Document]:
    """Every non-empty document of a YAML stream, checked and constructed."""
    out: list[Document] = []
    loader: _Loader | None = None
    try:
        _prescan(text)
        loader = _Loader(text)
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            lines: dict[KeyPath, int] = {}
            _check_tree(node, lines)
            data = loader.construct_document(node)
            if data is not None:
                out.append(Document(data, source, lines))
    except (yaml.YAMLError, _Refused, RecursionError, ValueError, OverflowError) as exc:
        # ValueError/OverflowError: a timestamp like 2001-13-45, an int of 10,000 digits
        raise ConfigError(source, [_yaml_problem(exc)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return out


def parse_yaml(text: str, source: str) -> Document:
    """Exactly one YAML document (an empty file is `None` data)."""
    documents = parse_yaml_documents(text, source)
    if len(documents) > 1:
        raise ConfigError(source, [f"(file): expected one YAML document, found {len(documents)}"])
    return documents[0] if documents else Document(None, source)


# -- JSON --------------------------------------------------------------------------


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"duplicate key {key!r}")
        out[key] = value
    return out


class NotFinite(_Refused, ValueError):
    """NaN, an infinity or a number overflowing to one (JSON allows none; Python's parser does).
    Shared with the run-folder reader (bedrock/runfolder/jsonl.py)."""


def refuse_constant(name: str) -> float:
    """json.loads' parse_constant: NaN and the infinities are refused."""
    raise NotFinite(f"{name} is not a finite number")


def finite_float(text: str) -> float:
    """json.loads' parse_float: a number that overflows to infinity is refused."""
    value = float(text)
    if not math.isfinite(value):
        raise NotFinite(f"{text} is not a finite number")
    return value


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse_json(text: str, source: str) -> Document:
    try:
        data = json.loads(
            text, object_pairs_hook=_pairs, parse_constant=refuse_constant, parse_float=finite_float
        )
    except json.JSONDecodeError as exc:
        raise ConfigError(source, [f"line {exc.lineno}: invalid JSON: {exc.msg}"]) from None
    except _Refused as exc:
        raise ConfigError(source, [exc.text()]) from None
    except RecursionError:
        raise ConfigError(source, ["nested too deeply to parse"]) from None
    except ValueError as exc:  # an integer of thousands of digits
        raise ConfigError(source, [f"invalid JSON: {exc}"]) from None
    if _depth(data) > MAX_DEPTH:
        raise ConfigError(source, [f"nested deeper than {MAX_DEPTH} levels"])
    return Document(data, source)


# -- files -------------------------------------------------------------------------


def _is_json(path: Path | str) -> bool:
    return str(path).lower().endswith(".json")


def load_document(path: Path | str, *, max_bytes: int = MAX_BYTES) -> Document:
    """One YAML document (or JSON, by the `.json` suffix) from a file."""
    text = read_text(path, max_bytes=max_bytes)
    return parse_json(text, str(path)) if _is_json(path) else parse_yaml(text, str(path))


def load_documents(path: Path | str, *, max_bytes: int = MAX_BYTES) -> list[Document]:
    """Every document of a multi-document YAML file (a JSON file is one document)."""
    text = read_text(path, max_bytes=max_bytes)
    if _is_json(path):
        return [parse_json(text, str(path))]
    return parse_yaml_documents(text, str(path))


def load_data(path: Path | str, *, max_bytes: int = MAX_BYTES) -> Any:
    """The plain data of one document (what `yaml.safe_load` would give, hardened)."""
    return load_document(path, max_bytes=max_bytes).data

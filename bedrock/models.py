"""Validate loaded data against a pydantic model: every problem at once, by line and key.

`load_model(path, Model)` is the one call a reader needs: the hardened loader
(`bedrock.loader`) then `validate`. Models should use `STRICT` (unknown keys
refused, NaN and infinities refused even when written as strings like "nan"
or "1e400", which YAML leaves as text and pydantic would turn into floats).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bedrock.errors import ConfigError
from bedrock.loader import MAX_BYTES, Document, KeyPath, load_document

STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)

M = TypeVar("M", bound=BaseModel)

_TYPE_NAMES = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    type(None): "nothing",
}


def type_name(value: Any) -> str:
    """How a user would call the type of a loaded value ("a list", "a string")."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def key_path(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """A pydantic error location as our key path (validator wrappers dropped)."""
    return tuple(
        "global" if part == "global_" else part
        for part in loc
        if not (isinstance(part, str) and part.startswith(("function-", "[key]")))
    )


def join_key(path: tuple[str | int, ...], *, brackets: bool = False) -> str:
    """`a.b.0.c`, or Kubernetes-style `a.b[0].c` with `brackets`."""
    out = ""
    for part in path:
        if brackets and isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def problems_of(
    exc: ValidationError,
    doc: Document | None = None,
    prefix: tuple[str | int, ...] = (),
    *,
    brackets: bool = False,
) -> list[str]:
    """One line per pydantic error: `line N: a.b.c: what is wrong`."""
    out: list[str] = []
    for err in exc.errors():
        path = (*prefix, *key_path(tuple(err["loc"])))
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
        key = join_key(path, brackets=brackets) or "(top level)"
        line = doc.line_of(tuple(str(p) for p in path)) if doc is not None else None
        where = f"line {line}: {key}" if line else key
        # nested validators may already name their own sub-key (latency.fault[0]: ...)
        out.append(msg if msg.startswith(f"{key}.") else f"{where}: {msg}")
    return out


def require_mapping(data: Any, source: str, what: str = "(top level)") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(source, [f"{what}: expected a mapping, got {type_name(data)}"])
    return data


def validate(model: type[M], doc: Document, *, prefix: KeyPath = (), empty_ok: bool = False) -> M:
    """`model` from the document's data (a mapping); ConfigError listing every problem."""
    data = doc.data
    if data is None and empty_ok:
        data = {}
    require_mapping(data, doc.source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(doc.source, problems_of(exc, doc, prefix)) from None


def validate_data(model: type[M], data: Any, source: str) -> M:
    """`validate` for data that did not come from a file (a mapping built in code)."""
    return validate(model, Document(data, source))


def load_model(
    path: Path | str, model: type[M], *, empty_ok: bool = False, max_bytes: int = MAX_BYTES
) -> M:
    """Read `path` with the hardened loader and validate it as `model`."""
    return validate(model, load_document(path, max_bytes=max_bytes), empty_ok=empty_ok)

"""Names that become paths or command-line arguments, and paths kept inside their folder.

A region name ends up in supervisord program names, server command lines and
file names; a suite or run name becomes a folder; a component name picks a log
file. Each must match a strict pattern, so `primary --data-dir /etc` or
`../../x` never reach a command line or a path. `inside()` is the second line of
defence: the resolved path must stay under its folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from bedrock.errors import ConfigError, InputError

# lower-case letters, digits, '-' and '_'; starts with a letter; fits a host label
REGION_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,30}")
# a file or folder name: no '/', no leading '.', no spaces
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


def _check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{what} {value!r} must match {pattern.pattern}")
    return value


def region_name(value: str) -> str:
    return _check(REGION_PATTERN, value, "region name")


def safe_name(value: str) -> str:
    return _check(NAME_PATTERN, value, "name")


RegionName = Annotated[str, AfterValidator(region_name)]
SafeName = Annotated[str, AfterValidator(safe_name)]


def require_name(value: str, what: str = "name", pattern: re.Pattern[str] = NAME_PATTERN) -> str:
    """InputError (exit 2) unless `value` matches `pattern`; for command-line arguments."""
    try:
        return _check(pattern, value, what)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def inside(folder: Path | str, *parts: str, what: str = "path") -> Path:
    """`folder/parts...`, refused (InputError) when it resolves outside `folder`."""
    base = Path(folder).resolve()
    try:
        target = base.joinpath(*parts).resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"{what} {'/'.join(parts)!r}: {exc}") from None
    if target != base and base not in target.parents:
        raise InputError(f"{what} {'/'.join(parts)!r} is outside {base}")
    return target


def state_dir_problem(value: str | os.PathLike[str], cwd: Path | None = None) -> str | None:
    """Why `value` cannot be a state directory (deleted by `down`), or None.

    Refused: empty, `/` and top-level folders (`/etc`, `/tmp`), the current
    directory or any folder above it, a home directory or `/home` itself.
    """
    text = os.fspath(value)
    if not text.strip():
        return "must not be empty"
    if "\0" in text:
        return "contains a NUL byte"
    if any(len(os.fsencode(part)) > 255 for part in Path(text).parts):
        return "a folder name is longer than 255 bytes"
    here = (cwd or Path.cwd()).resolve()
    try:
        path = (here / Path(text).expanduser()).resolve()
    except (OSError, RuntimeError) as exc:
        return f"cannot be resolved: {exc}"
    if len(path.parts) <= 2:
        return f"{text!r} resolves to {path}: a top-level folder"
    if path == here or path in here.parents:
        return f"{text!r} resolves to {path}: the current folder or one above it"
    homes = {Path.home().resolve(), Path("/root"), Path(os.environ.get("HOME", "/root")).resolve()}
    if path in homes or path.parent == Path("/home"):
        return f"{text!r} resolves to {path}: a home directory"
    return None


def require_state_dir(value: str | os.PathLike[str], source: str, key: str) -> Path:
    problem = state_dir_problem(value)
    if problem:
        raise ConfigError(source, [f"{key}: {problem}"])
    return Path(value)

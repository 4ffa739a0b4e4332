"""Where a local stack keeps its state, and the guard that keeps gameday from deleting anything else.

The default is outside the source tree (`<tmp>/gameday/state`, traversable by the
postgres user). gameday marks a state directory it creates with a marker file and
deletes only a directory that carries it. `/`, the current directory and its
parents, the source tree and its parents, any home directory, and a non-empty
directory gameday did not create are refused (InputError, exit 2) before anything
is started, stopped or removed.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import tempfile
from pathlib import Path

from bedrock.errors import InputError

MARKER = ".gameday-state"
SOURCE_TREE = Path(__file__).resolve().parents[1]


def default_state_dir() -> Path:
    return Path(tempfile.gettempdir()) / "gameday" / "state"


def resolve_state_dir(state_dir: str | Path | None, topology_value: str | None = None) -> Path:
    """The state directory: the argument, else $GAMEDAY_STATE_DIR, else the topology's, else the default."""
    chosen = state_dir or os.environ.get("GAMEDAY_STATE_DIR") or topology_value
    return Path(chosen).resolve() if chosen else default_state_dir()


def _home_dirs() -> set[Path]:
    homes = {Path.home().resolve()}
    for entry in pwd.getpwall():
        if entry.pw_dir and entry.pw_dir != "/":
            homes.add(Path(entry.pw_dir).resolve())
    return homes


def _created_by_us(root: Path) -> bool:
    if (root / MARKER).is_file():
        return True
    # A state directory from before the marker existed: our handle file naming itself.
    try:
        handles = json.loads((root / "stack.json").read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(handles, dict)
        and handles.get("schema") == "gameday.stack/1"
        and handles.get("state_dir") == str(root)
    )


def refusal(root: Path) -> str | None:
    """Why `root` may not be a state directory (None when it may)."""
    root = root.resolve()
    cwd = Path.cwd().resolve()
    if root == Path("/"):
        return "it is the root directory"
    if root == cwd or root in cwd.parents:
        return "it is the current directory or one of its parents"
    if root == SOURCE_TREE or root in SOURCE_TREE.parents or SOURCE_TREE in root.parents:
        return f"it is inside or above the source tree {SOURCE_TREE}"
    if root in _home_dirs():
        return "it is a home directory"
    if root.exists() and not root.is_dir():
        return "it is not a directory"
    if root.is_dir() and any(root.iterdir()) and not _created_by_us(root):
        return f"it is a non-empty directory gameday did not create (no {MARKER} marker)"
    return None


def check_state_dir(root: Path, what: str = "state directory") -> None:
    reason = refusal(root)
    if reason:
        raise InputError(f"{what} {root}: refused: {reason}")


def claim_state_dir(root: Path) -> None:
    """Create (or adopt our own) state directory and mark it as gameday's."""
    check_state_dir(root)
    root.mkdir(parents=True, exist_ok=True)
    marker = root / MARKER
    if not marker.exists():
        marker.write_text("created by gameday; `gameday down` may delete this directory\n")


def remove_state_dir(root: Path) -> None:
    """Delete a state directory, only when gameday created it (InputError otherwise)."""
    if not root.exists():
        return
    check_state_dir(root)
    if not _created_by_us(root):
        return  # empty and not ours: leave it where it is
    shutil.rmtree(root)

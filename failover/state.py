"""The controller state a leader hands over through its lock (local file, etcd key, Kubernetes
Lease annotation): checked before the controller acts on it.

`check_state(data, source)` returns the mapping or raises ConfigError naming the key: a
region that is not a region name, a time that is not a finite number, an operation whose
fields have the wrong types. The local lock's file goes through the hardened loader first
(`read_state_file`), so a corrupt file is exit 2 naming the file, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bedrock.errors import ConfigError
from bedrock.loader import Document, parse_json, read_text
from bedrock.models import problems_of, require_mapping
from bedrock.names import RegionName
from failover.runner import Operation


class _State(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    active: RegionName | None = None
    last_switch_wall: float | None = Field(None, ge=0)
    last_failed_wall: float | None = Field(None, ge=0)
    operation: Operation | None = None
    failback_requested: bool | None = None


def check_state(data: Any, source: str) -> dict[str, Any]:
    """`data` when it is a well-formed controller state; ConfigError otherwise."""
    state = require_mapping(data, source)
    try:
        _State.model_validate(state)
    except ValidationError as exc:
        raise ConfigError(source, problems_of(exc, Document(state, source))) from None
    return state


def read_state_file(path: Path) -> dict[str, Any]:
    """The local lock's state file (JSON) through the hardened loader, checked."""
    return check_state(parse_json(read_text(path), str(path)).data, str(path))

"""The handles of a running local stack (`<state>/stack.json`, written by `gameday up`).

`StackHandles.open(state_dir)` reads them; the rest of the stack's control
classes build on it: `stack.observe.Observation` (read-only queries),
`stack.processes.Processes` (supervision: signal, stop, start, scale),
`stack.control.Stack` (the faults as `gameday stack` and the controllers call
them). Nothing here changes the stack.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Self

import httpx
from pydantic import Field, RootModel

from bedrock.errors import ActionError, ConfigError, SetupError
from bedrock.loader import load_data, load_document
from bedrock.models import validate
from bedrock.names import RegionName
from stack.faults import DirJournal, FaultJournal
from stack.layout import Layout
from stack.state_dir import resolve_state_dir
from stack.supervisor import Supervisor

MAX_REPLICAS = 40  # the topology's bound on api_max_replicas (stack/topology.py)


class _Replicas(
    RootModel[dict[RegionName, Annotated[int, Field(strict=True, ge=0, le=MAX_REPLICAS)]]]
):
    """`<state>/replicas.json`: the desired API replicas per region."""


def read_replicas(path: Path) -> dict[str, int]:
    """The desired replicas from `path` through the hardened loader: a mapping of region name
    to a whole number in [0, MAX_REPLICAS]; ConfigError (exit 2) naming file and key otherwise."""
    return dict(validate(_Replicas, load_document(path)).root)


def get_ok(url: str) -> bool:
    """GET answers 200 within 0.5 s."""
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(what: str, cond: Callable[[], Any], deadline_s: float) -> None:
    """Poll `cond` every 0.1 s; ActionError naming `what` past the deadline."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise ActionError(f"{what} not ready within {deadline_s:.0f} s")


def quietly(cond: Callable[[], Any]) -> Callable[[], bool]:
    """`cond` with ActionError and HTTP errors read as False (for `wait_for`)."""

    def wrapped() -> bool:
        try:
            return bool(cond())
        except (ActionError, httpx.HTTPError):
            return False

    return wrapped


class StackHandles:
    """Addresses, programs and files of one running local stack."""

    def __init__(self, handles: dict[str, Any], journal: FaultJournal | None = None) -> None:
        self.handles = handles
        root = Path(handles["state_dir"])
        self.root = root
        # Every fault is journaled before it is injected and cleared once undone.
        self.journal: FaultJournal = journal or DirJournal(root / "faults")
        self.layout = Layout(root)
        self.sup = Supervisor(
            self.layout.supervisor_conf, self.layout.supervisor_sock, self.layout.supervisor_pid
        )
        self.programs: dict[str, dict[str, Any]] = handles["programs"]

    @classmethod
    def open(cls, state_dir: Path | str | None = None) -> Self:
        root = resolve_state_dir(state_dir)
        path = root / "stack.json"
        if not os.path.lexists(path):  # a looping link is a damaged handle file, not "no stack"
            raise SetupError(f"no stack at {root}: run `gameday up` first")
        handles = load_data(path)  # hardened: ConfigError (exit 2) naming the file
        shape = {"state_dir": str, "entry_url": str, "programs": dict, "regions": dict}
        if not isinstance(handles, dict) or any(
            not isinstance(handles.get(k), t) for k, t in shape.items()
        ):
            raise ConfigError(
                str(path), ["(top level): not a stack handle file; run `gameday up` again"]
            )
        return cls(handles)

    @property
    def entry_url(self) -> str:
        return str(self.handles["entry_url"])

    @property
    def prometheus_url(self) -> str:
        return str(self.handles["prometheus_url"])

    @property
    def regions(self) -> list[str]:
        return list(self.handles["regions"])

    def region_url(self, region: str) -> str:
        return str(self.handles["regions"][region]["url"])

    def api_url(self, region: str, index: int) -> str:
        info = self.handles["regions"][region]
        return f"http://{info['api_host']}:{int(info['api_base_port']) + index}"

    def admin_socket(self, region: str) -> Path:
        """The region's HAProxy runtime API socket."""
        return Path(self.handles["regions"][region]["admin_socket"])

    def role(self, name: str) -> str:
        return str(self.programs[name]["role"])

    def program_names(self, region: str | None = None, role: str | None = None) -> list[str]:
        return [
            name
            for name, meta in self.programs.items()
            if (region is None or meta["region"] == region)
            and (role is None or meta["role"] == role)
        ]

    def unused_slot(self, name: str, desired: dict[str, int]) -> bool:
        """An API replica slot above the region's desired count (stays stopped)."""
        meta = self.programs[name]
        return bool(meta["role"] == "api" and meta["index"] >= desired.get(meta["region"], 0))

    def home_region(self) -> str:
        regions: dict[str, dict[str, Any]] = self.handles["regions"]
        return next(r for r, info in regions.items() if info["role"] == "active")

    def initial_replicas(self, region: str) -> int:
        """The API replicas the topology starts the region with."""
        info = self.handles["regions"][region]
        return int(info.get("api_replicas", self.replicas(region)))

    def region_db_member(self, region: str) -> str | None:
        return next(
            (
                n
                for n, m in self.programs.items()
                if m["role"] == "postgres" and m["region"] == region
            ),
            None,
        )

    def addresses(self) -> set[str]:
        """Every loopback address this stack uses (what our nftables rules may target)."""
        return set(re.findall(r"127\.\d+\.\d+\.\d+", json.dumps(self.handles)))

    # -- replicas (the scaler interface of the failover controller and autoscaler) ----------
    def desired_replicas(self) -> dict[str, int]:
        return read_replicas(self.root / "replicas.json")

    def replicas(self, region: str) -> int:
        desired = self.desired_replicas()
        if region not in desired:
            raise ConfigError(str(self.root / "replicas.json"), [f"{region}: missing"])
        return desired[region]

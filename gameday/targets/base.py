"""The one `Target` interface: where a run happens, what it can break, what it can see.

A target gives the orchestrator the same things on the local stack
(`targets/local.py`, over `stack/`) and on Kubernetes (`targets/kubernetes.py`):

- handles: the entry URL clients use, the Prometheus URL, the regions and
  their own URLs, where acknowledged writes are read back (the ledger) and,
  on the local stack, its state directory and the controllers' events;
- faults as values (`targets/faults.py`): `plan` says what a fault would hit
  without touching anything (`--dry-run`), `inject` causes it and returns
  the evidence (`Injected`), `undo` reverses what the system does not heal by
  itself;
- observations, read-only: replicas (desired, ready), where the edge routes,
  the database leader, whether everything is at home;
- `restore`: the orchestrator's safety net after a run (undo whatever is
  left), never called by an experiment's own rollback; `recover`: the same
  after a runner died (`gameday recover`, and before every run).

Failures are `bedrock.errors` exceptions: InputError for a fault the target
does not support or an unknown region (exit 2), ActionError when a call fails
(`retryable` set when trying again may help).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

from gameday.targets.faults import Fault

Say = Callable[[str], None]


@dataclass(frozen=True)
class Handles:
    """What a run connects to."""

    entry_url: str
    prometheus_url: str
    regions: dict[str, str]  # region -> its own URL ("" where it has none reachable)
    ledger_url: str  # the acknowledged writes are read back from here (the entry point)
    state_dir: Path | None = None  # the local stack's state (experiments open it); None on k8s
    events_dir: Path | None = None  # the failover controllers' events, when the target has them
    logs_dir: Path | None = None  # every stack process's log (a run keeps its slice); local only
    db_api_urls: dict[str, str] = field(default_factory=dict)  # database member -> REST API


class Replicas(NamedTuple):
    """A region's API replicas: how many are wanted, how many answer ready."""

    desired: int
    ready: int


@dataclass(frozen=True)
class Injected:
    """A fault that was caused: what it hit (the evidence), and what its undo needs."""

    fault: Fault
    hit: list[str]
    replicas_before: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HomeCheck:
    """Is the target where a run starts: edge, database leader and replicas at home?"""

    ok: bool
    detail: str


class HandlesMixin:
    """The URLs and regions every target reads from its `handles` (local and Kubernetes)."""

    @property
    def handles(self) -> Handles:
        raise NotImplementedError

    @property
    def entry_url(self) -> str:
        return self.handles.entry_url

    @property
    def prometheus_url(self) -> str:
        return self.handles.prometheus_url

    @property
    def regions(self) -> list[str]:
        return list(self.handles.regions)


@runtime_checkable
class Target(Protocol):
    """Where a run happens. Implementations: LocalTarget, KubernetesTarget."""

    name: str

    @property
    def handles(self) -> Handles: ...

    @property
    def entry_url(self) -> str: ...

    @property
    def prometheus_url(self) -> str: ...

    @property
    def regions(self) -> list[str]: ...

    @property
    def scales_on_load(self) -> bool:
        """Something scales the API on load (an autoscaler, an HPA): scale time is judged."""
        ...

    # -- faults --------------------------------------------------------------
    def supports(self, fault: Fault) -> bool:
        """True when `inject` can cause this fault here."""
        ...

    def plan(self, faults: Sequence[Fault]) -> list[str]:
        """One line per change `faults` would make, without changing anything (InputError for
        an unsupported fault or unknown region)."""
        ...

    def inject(self, fault: Fault) -> Injected:
        """Cause `fault` (journaled first where the target keeps a journal)."""
        ...

    def undo(self, injected: Injected) -> None:
        """Reverse `injected` where the system does not heal by itself."""
        ...

    # -- observations (read-only) -------------------------------------------
    def replicas(self, region: str) -> Replicas:
        """Desired and ready API replicas (ready costs a health check per replica locally)."""
        ...

    def desired_replicas(self, region: str) -> int:
        """Desired API replicas only (cheap: what a monitor polls)."""
        ...

    def edge_regions(self) -> list[str]:
        """The regions the entry point routes to now."""
        ...

    def db_leader(self) -> str | None:
        """The database member that leads now (None when none does)."""
        ...

    def at_home(self) -> HomeCheck:
        """Whether a run may start: entry, database leader and replicas in the home region."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the run folder records about the target (run.json)."""
        ...

    # -- the safety net ------------------------------------------------------
    def restore(self, say: Say, deadline_s: float = 120.0) -> dict[str, Any]:
        """Undo everything still broken after a run; what was done (ActionError if it cannot)."""
        ...

    def recover(self, say: Say, deadline_s: float = 30.0) -> list[str]:
        """After a runner died: undo what its journal holds and whatever is still visible, one
        `say` line per thing undone; the problems left (empty: back at home)."""
        ...


def require_supported(target: Target, fault: Fault, supported: Sequence[type[Any]]) -> None:
    """InputError naming what `target` supports when `fault` is not among them."""
    from bedrock.errors import InputError

    if not isinstance(fault, tuple(supported)):
        kinds = ", ".join(t.kind for t in supported)
        raise InputError(f"the {target.name} target cannot cause {fault.kind} (it has: {kinds})")

"""The controller's four seams: traffic switch, scaler, notifier, leader lock.

Each is a small ABC; each implementation maps its library's errors onto the one
base error of its kind (failover/errors.py). Every mutating call is idempotent
(switching to the region already active, scaling to the current count), which is
what lets a new leader safely redo the step the old leader was in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol


class TrafficSwitch(ABC):
    """Sends user traffic to one region (edge HAProxy, Ingress, DNS record)."""

    name: str = "switch"

    @abstractmethod
    def switch_to(self, region: str) -> None:
        """Make `region` the only one receiving traffic. Raises TrafficSwitchError."""

    @abstractmethod
    def current(self) -> str | None:
        """The region receiving traffic now, None when it is not exactly one."""


class Scaler(ABC):
    name: str = "scaler"

    @abstractmethod
    def scale(self, region: str, replicas: int) -> None:
        """Ask for `replicas` API replicas in `region`. Raises ScalerError."""

    @abstractmethod
    def ready_replicas(self, region: str) -> int:
        """How many of the region's replicas are ready now. Raises ScalerError."""


class Notifier(ABC):
    name: str = "notifier"

    @abstractmethod
    def notify(self, message: str, *, level: str = "info") -> None:
        """Deliver one message (level: info, warning, critical). Raises NotifierError."""


class LeaderLock(ABC):
    """Leader election plus the small state the leader must hand over.

    `state` holds the in-progress failover (and the active region, the last switch
    time), written only while holding the lock, so a controller that takes over
    reads exactly what the previous leader had done.
    """

    identity: str
    ttl_s: float = 0.0  # how long a renewed lock stays ours without renewal (0: never lost)

    @abstractmethod
    def try_acquire(self) -> bool:
        """Acquire the lock or renew it; True when this controller is the leader."""

    @abstractmethod
    def holder(self) -> str | None:
        """Who holds the lock, as last seen (None when nobody)."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up (clean shutdown), so a standby takes over at once."""

    @abstractmethod
    def read_state(self) -> dict[str, Any] | None:
        """The shared controller state, None when never written."""

    @abstractmethod
    def write_state(self, state: dict[str, Any]) -> None:
        """Store state, only if still the leader; else raise LeadershipLost."""


class StackControl(Protocol):
    """What the local stack's control object offers for scaling (stack/ provides it)."""

    def scale(self, region: str, replicas: int) -> None: ...

    def ready_replicas(self, region: str) -> int: ...

"""The faults a run can ask any target for, as values (not strings).

Each fault is a frozen dataclass naming the region it hits; `kind` is its
word on the command line (`KIND:REGION[:N]`, `parse`). A target says which it
supports (`Target.supports`); asking another is an InputError naming the ones
it has. What a fault does on each target:

| fault | local stack | Kubernetes |
|---|---|---|
| RegionLoss | power-cut every process of the region | scale the API Deployment to 0 |
| RegionFreeze | SIGSTOP every process of the region | - |
| PodKill | SIGKILL `count` API replicas (supervisord restarts them) | delete `count` API pods |
| ControllerKill | SIGKILL the leading failover controller | delete the Lease holder's pod |
| DbPrimaryKill | hard-kill the Patroni leader | delete the CloudNativePG primary pod |
| CacheMasterKill | hard-kill a Redis Cluster master | - |
| CachePartition | drop every TCP packet to a Redis master (nftables) | - |
| Latency | delay every request through the region's load balancer | - |
| ScaleRegion | set the region's API replicas | scale the API Deployment |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from bedrock.errors import InputError


@dataclass(frozen=True)
class RegionLoss:
    """The region is gone (a power cut, or no API pod left); rollback brings it back."""

    region: str
    kind: ClassVar[str] = "region-loss"


@dataclass(frozen=True)
class RegionFreeze:
    """Every process of the region stops answering but keeps its sockets (a gray failure)."""

    region: str
    kind: ClassVar[str] = "region-freeze"


@dataclass(frozen=True)
class PodKill:
    """`count` API replicas of the region die hard; the supervisor recreates them."""

    region: str
    count: int = 1
    kind: ClassVar[str] = "pod-kill"


@dataclass(frozen=True)
class ControllerKill:
    """The leading failover controller dies hard; the standby must take over."""

    region: str
    kind: ClassVar[str] = "controller-kill"


@dataclass(frozen=True)
class DbPrimaryKill:
    """The database primary dies hard (local: the Patroni leader wherever it runs)."""

    region: str
    kind: ClassVar[str] = "db-primary-kill"


@dataclass(frozen=True)
class CacheMasterKill:
    """One Redis Cluster master dies hard (the first by address unless `addr`)."""

    region: str
    addr: str | None = None
    kind: ClassVar[str] = "cache-master-kill"


@dataclass(frozen=True)
class CachePartition:
    """One Redis Cluster master becomes unreachable: `loss_pct` % of TCP packets to it dropped."""

    region: str
    addr: str | None = None
    loss_pct: int = 100
    kind: ClassVar[str] = "cache-partition"


@dataclass(frozen=True)
class Latency:
    """Every request through the region's load balancer waits `delay_ms` more."""

    region: str
    delay_ms: int = 250
    kind: ClassVar[str] = "latency"


@dataclass(frozen=True)
class ScaleRegion:
    """The region's API runs `replicas` replicas (0 takes it out; rollback restores the count)."""

    region: str
    replicas: int
    kind: ClassVar[str] = "scale-region"


Fault = (
    RegionLoss
    | RegionFreeze
    | PodKill
    | ControllerKill
    | DbPrimaryKill
    | CacheMasterKill
    | CachePartition
    | Latency
    | ScaleRegion
)
FAULT_TYPES: tuple[type[Fault], ...] = (
    RegionLoss,
    RegionFreeze,
    PodKill,
    ControllerKill,
    DbPrimaryKill,
    CacheMasterKill,
    CachePartition,
    Latency,
    ScaleRegion,
)
BY_KIND: dict[str, type[Fault]] = {t.kind: t for t in FAULT_TYPES}
# The third field of `KIND:REGION:N` and whether it is required.
_NUMBER: dict[str, tuple[str, bool]] = {
    "pod-kill": ("count", False),
    "latency": ("delay_ms", False),
    "scale-region": ("replicas", True),
    "cache-partition": ("loss_pct", False),
}


def describe(fault: Fault) -> str:
    """`KIND:REGION[:N]`, what `parse` reads back."""
    field = _NUMBER.get(fault.kind)
    if field is None:
        return f"{fault.kind}:{fault.region}"
    return f"{fault.kind}:{fault.region}:{getattr(fault, field[0])}"


MAX_COUNT = 1000  # pods to kill or replicas to scale to: a typo must not flood a cluster


def parse(text: str, kinds: list[str] | None = None) -> Fault:
    """`KIND:REGION[:N]`, e.g. `region-loss:primary`, `pod-kill:secondary:2`; InputError naming
    the expected form. `kinds` limits the kinds accepted (a target's supported set)."""
    allowed = kinds if kinds is not None else list(BY_KIND)
    parts = text.split(":")
    if len(parts) not in (2, 3) or parts[0] not in allowed:
        raise InputError(
            f"fault {text!r}: expected KIND:REGION[:COUNT], KIND one of {', '.join(allowed)}"
        )
    kind, region = parts[0], parts[1]
    number = _NUMBER.get(kind)
    if len(parts) == 3:
        if number is None:
            raise InputError(f"fault {text!r}: {kind} takes no number")
        if not re.fullmatch(r"[0-9]{1,4}", parts[2]) or not (
            (0 if number[0] == "replicas" else 1) <= int(parts[2]) <= MAX_COUNT
        ):
            raise InputError(f"fault {text!r}: COUNT must be a positive integer up to {MAX_COUNT}")
        return BY_KIND[kind](region, **{number[0]: int(parts[2])})  # type: ignore[arg-type]
    if number is not None and number[1]:
        raise InputError(f"fault {text!r}: {kind} needs a number ({kind}:REGION:{number[0]})")
    return BY_KIND[kind](region)  # type: ignore[call-arg]

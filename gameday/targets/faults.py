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
class _OnRegion:
    """What every fault has: the region it hits, its word on the command line (`kind`) and,
    when `KIND:REGION:N` sets one of its numbers, that field's name (`number`; the third
    field is then optional unless `number_required`). `parse` and `describe` read these."""

    region: str
    kind: ClassVar[str]
    number: ClassVar[str | None] = None
    number_required: ClassVar[bool] = False


@dataclass(frozen=True)
class RegionLoss(_OnRegion):
    """The region is gone (a power cut, or no API pod left); rollback brings it back."""

    kind = "region-loss"


@dataclass(frozen=True)
class RegionFreeze(_OnRegion):
    """Every process of the region stops answering but keeps its sockets (a gray failure)."""

    kind = "region-freeze"


@dataclass(frozen=True)
class PodKill(_OnRegion):
    """`count` API replicas of the region die hard; the supervisor recreates them."""

    count: int = 1
    kind = "pod-kill"
    number = "count"


@dataclass(frozen=True)
class ControllerKill(_OnRegion):
    """The leading failover controller dies hard; the standby must take over."""

    kind = "controller-kill"


@dataclass(frozen=True)
class DbPrimaryKill(_OnRegion):
    """The database primary dies hard (local: the Patroni leader wherever it runs)."""

    kind = "db-primary-kill"


@dataclass(frozen=True)
class CacheMasterKill(_OnRegion):
    """One Redis Cluster master dies hard (the first by address unless `addr`)."""

    addr: str | None = None
    kind = "cache-master-kill"


@dataclass(frozen=True)
class CachePartition(_OnRegion):
    """One Redis Cluster master becomes unreachable: `loss_pct` % of TCP packets to it dropped."""

    addr: str | None = None
    loss_pct: int = 100
    kind = "cache-partition"
    number = "loss_pct"


@dataclass(frozen=True)
class Latency(_OnRegion):
    """Every request through the region's load balancer waits `delay_ms` more."""

    delay_ms: int = 250
    kind = "latency"
    number = "delay_ms"


@dataclass(frozen=True)
class ScaleRegion(_OnRegion):
    """The region's API runs `replicas` replicas (0 takes it out; rollback restores the count)."""

    replicas: int
    kind = "scale-region"
    number = "replicas"
    number_required = True


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


def describe(fault: Fault) -> str:
    """`KIND:REGION[:N]`, what `parse` reads back."""
    if fault.number is None:
        return f"{fault.kind}:{fault.region}"
    return f"{fault.kind}:{fault.region}:{getattr(fault, fault.number)}"


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
    cls = BY_KIND[kind]
    if len(parts) == 3:
        if cls.number is None:
            raise InputError(f"fault {text!r}: {kind} takes no number")
        if not re.fullmatch(r"[0-9]{1,4}", parts[2]) or not (
            (0 if cls.number == "replicas" else 1) <= int(parts[2]) <= MAX_COUNT
        ):
            raise InputError(f"fault {text!r}: COUNT must be a positive integer up to {MAX_COUNT}")
        return cls(region, **{cls.number: int(parts[2])})  # type: ignore[arg-type]
    if cls.number_required:
        raise InputError(f"fault {text!r}: {kind} needs a number ({kind}:REGION:{cls.number})")
    return cls(region)  # type: ignore[call-arg]

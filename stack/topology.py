"""The local stack's topology: a typed, validated model of manifests/local/topology.yaml.

Addresses are derived from each region's loopback range so that the file stays
short: the regional load balancer is `.1`, etcd `.10`, PostgreSQL `.20`, Redis
`.31` upwards, API replicas `.50`. Validation collects every problem (unknown
key, wrong type, port clash) and raises one ConfigError naming file and key.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bedrock.errors import ConfigError
from bedrock.loader import Document, load_document
from bedrock.models import validate
from bedrock.names import RegionName, SafeName, state_dir_problem

DEFAULT_TOPOLOGY = Path(__file__).resolve().parent.parent / "manifests" / "local" / "topology.yaml"
# The Patroni that scripts/setup.sh installs (PyPI 4.1.5 in its own venv): it ignores a stale
# etcd member (compares the raft term), so a thawed region cannot demote the promoted replica.
BUNDLED_PATRONI = "/opt/gameday-patroni/bin/patroni"
# Debian 12's Patroni 3.0.2: loses acknowledged writes on freeze-region (docs/failover.md);
# kept selectable only to compare (benchmarks/bench_durability.py).
DEBIAN_PATRONI = "/usr/bin/patroni"
PATRONI4_MIN_TTL = 20  # Patroni 4 raises a lower ttl to 20 and its validator rejects it


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Port = Annotated[int, Field(strict=True, ge=1, le=65535)]


class GlobalZone(_Strict):
    address: str = "127.0.9.1"
    edge_port: int = Field(strict=True, default=8080, ge=1, le=65535)
    edge_stats_port: int = Field(strict=True, default=8404, ge=1, le=65535)
    prometheus_port: int = Field(strict=True, default=9090, ge=1, le=65535)
    failover_ports: list[Port] = Field(default_factory=lambda: [9701, 9702], max_length=2)
    autoscaler_port: int = Field(strict=True, default=9710, ge=1, le=65535)

    @field_validator("address")
    @classmethod
    def _loopback(cls, value: str) -> str:
        if not ipaddress.ip_address(value).is_loopback:
            raise ValueError(f"{value} is not a loopback address (127.0.0.0/8)")
        return value


class Region(_Strict):
    cidr: str
    role: Literal["active", "standby", "witness"]
    api_replicas: int = Field(strict=True, default=0, ge=0, le=40)
    api_max_replicas: int = Field(strict=True, default=12, ge=0, le=40)

    @field_validator("cidr")
    @classmethod
    def _loopback_net(cls, value: str) -> str:
        net = ipaddress.ip_network(value, strict=True)
        if not net.subnet_of(ipaddress.ip_network("127.0.0.0/8")):  # type: ignore[arg-type]
            raise ValueError(f"{value} is not inside 127.0.0.0/8")
        if net.prefixlen != 24:
            raise ValueError(f"{value} must be a /24")
        return value


class Ports(_Strict):
    lb_http: int = Field(strict=True, default=8080, ge=1, le=65535)
    lb_stats: int = Field(strict=True, default=8404, ge=1, le=65535)
    lb_db: int = Field(strict=True, default=5000, ge=1, le=65535)
    api_base: int = Field(strict=True, default=8100, ge=1, le=65000)
    etcd_client: int = Field(strict=True, default=2379, ge=1, le=65535)
    etcd_peer: int = Field(strict=True, default=2380, ge=1, le=65535)
    postgres: int = Field(strict=True, default=5432, ge=1, le=65535)
    patroni_rest: int = Field(strict=True, default=8008, ge=1, le=65535)
    redis: int = Field(strict=True, default=6379, ge=1, le=55535)


class PgMember(_Strict):
    name: SafeName
    region: str


class Postgres(_Strict):
    members: list[PgMember]
    leader: str
    synchronous_mode: bool = False
    patroni: str = BUNDLED_PATRONI  # the Patroni executable (an absolute path)
    ttl: int = Field(strict=True, default=PATRONI4_MIN_TTL, ge=6, le=120)
    loop_wait: int = Field(strict=True, default=1, ge=1, le=30)
    retry_timeout: int = Field(strict=True, default=3, ge=1, le=60)


class RedisRegion(_Strict):
    mode: Literal["cluster", "standalone"]
    masters: int = Field(strict=True, default=3, ge=3, le=6)
    replicas_per_master: int = Field(strict=True, default=1, ge=0, le=2)
    node_timeout_ms: int = Field(strict=True, default=1000, ge=200, le=60000)


class FailoverTimings(_Strict):
    check_interval_s: float = Field(strict=True, default=1.0, gt=0, le=60)
    check_timeout_s: float = Field(strict=True, default=0.8, gt=0, le=30)
    down_after: int = Field(strict=True, default=3, ge=1, le=100)
    up_after: int = Field(strict=True, default=3, ge=1, le=100)
    cooldown_s: float = Field(strict=True, default=10.0, ge=0, le=3600)
    controllers: int = Field(strict=True, default=2, ge=0, le=2)


class Topology(_Strict):
    name: SafeName
    state_dir: str | None = None  # default: stack.state_dir.default_state_dir(), outside the tree
    global_: GlobalZone = Field(default_factory=GlobalZone, alias="global")
    regions: dict[RegionName, Region] = Field(min_length=2, max_length=9)
    ports: Ports = Field(default_factory=Ports)
    postgres: Postgres
    redis: dict[RegionName, RedisRegion]
    failover: FailoverTimings = Field(default_factory=FailoverTimings)

    @field_validator("state_dir")
    @classmethod
    def _safe_state_dir(cls, value: str | None) -> str | None:
        # `gameday down` deletes this folder: never /, the current folder or a home
        if value is None:
            return None
        problem = state_dir_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    # -- derived addresses -------------------------------------------------
    def host(self, region: str, last_octet: int) -> str:
        net = ipaddress.ip_network(self.regions[region].cidr)
        return str(net.network_address + last_octet)

    def lb_host(self, region: str) -> str:
        return self.host(region, 1)

    def etcd_host(self, region: str) -> str:
        return self.host(region, 10)

    def pg_host(self, region: str) -> str:
        return self.host(region, 20)

    def redis_hosts(self, region: str) -> list[str]:
        spec = self.redis[region]
        count = spec.masters * (1 + spec.replicas_per_master) if spec.mode == "cluster" else 1
        return [self.host(region, 31 + i) for i in range(count)]

    def api_host(self, region: str) -> str:
        return self.host(region, 50)

    def api_port(self, index: int) -> int:
        return self.ports.api_base + index

    @property
    def api_regions(self) -> list[str]:
        return [name for name, r in self.regions.items() if r.role != "witness"]

    @property
    def active_region(self) -> str:
        return next(name for name, r in self.regions.items() if r.role == "active")

    def pg_member_region(self, member: str) -> str:
        return next(m.region for m in self.postgres.members if m.name == member)

    def listeners(self) -> list[tuple[str, int, str]]:
        """Every (address, port, owner) the stack will listen on."""
        p = self.ports
        g = self.global_
        out: list[tuple[str, int, str]] = [
            (g.address, g.edge_port, "edge haproxy"),
            (g.address, g.edge_stats_port, "edge haproxy stats"),
            (g.address, g.prometheus_port, "prometheus"),
            (g.address, g.autoscaler_port, "autoscaler"),
        ]
        out += [
            (g.address, port, f"failover controller {i}") for i, port in enumerate(g.failover_ports)
        ]
        for name in self.regions:
            out += [
                (self.etcd_host(name), p.etcd_client, f"etcd {name} client"),
                (self.etcd_host(name), p.etcd_peer, f"etcd {name} peer"),
            ]
        for name in self.api_regions:
            lb = self.lb_host(name)
            out += [
                (lb, p.lb_http, f"haproxy {name}"),
                (lb, p.lb_stats, f"haproxy {name} stats"),
                (lb, p.lb_db, f"haproxy {name} db"),
            ]
            out += [
                (self.api_host(name), self.api_port(i), f"api {name} replica {i}")
                for i in range(self.regions[name].api_max_replicas)
            ]
        for member in self.postgres.members:
            host = self.pg_host(member.region)
            out += [
                (host, p.postgres, f"postgresql {member.name}"),
                (host, p.patroni_rest, f"patroni {member.name}"),
            ]
        for region in self.redis:
            for host in self.redis_hosts(region):
                out += [
                    (host, p.redis, f"redis {host}"),
                    (host, p.redis + 10000, f"redis bus {host}"),
                ]
        return out


@dataclass(frozen=True)
class LoadedTopology:
    topology: Topology
    source: Path


def _semantic_problems(t: Topology) -> list[str]:
    """Every cross-field problem; port clashes only once the rest holds (they need it)."""
    problems = [*_region_problems(t), *_postgres_problems(t), *_redis_problems(t)]
    return problems or _port_clashes(t)


def _region_problems(t: Topology) -> list[str]:
    problems: list[str] = []
    roles = [r.role for r in t.regions.values()]
    if roles.count("active") != 1:
        problems.append("regions: exactly one region must have role 'active'")
    if roles.count("standby") < 1:
        problems.append("regions: at least one region must have role 'standby'")
    for name, region in t.regions.items():
        if region.role != "witness" and region.api_replicas < 1:
            problems.append(f"regions.{name}.api_replicas: must be >= 1 for an API region")
        if region.api_replicas > region.api_max_replicas:
            problems.append(
                f"regions.{name}.api_replicas: {region.api_replicas} exceeds "
                f"api_max_replicas {region.api_max_replicas}"
            )
    nets: dict[str, str] = {}
    for name, region in t.regions.items():
        if region.cidr in nets:
            problems.append(
                f"regions.{name}.cidr: {region.cidr} already used by region {nets[region.cidr]}"
            )
        nets[region.cidr] = name
    global_net = str(ipaddress.ip_network(f"{t.global_.address}/24", strict=False))
    if global_net in nets:
        problems.append(
            f"global.address: {t.global_.address} is inside region {nets[global_net]}'s range"
        )
    return problems


def _postgres_problems(t: Topology) -> list[str]:
    problems: list[str] = []
    pg = t.postgres
    names = [m.name for m in pg.members]
    for i, member in enumerate(pg.members):
        if member.region not in t.regions:
            problems.append(f"postgres.members.{i}.region: unknown region {member.region!r}")
    if len(set(names)) != len(names):
        problems.append("postgres.members: member names must be unique")
    if pg.leader not in names:
        problems.append(f"postgres.leader: {pg.leader!r} is not one of the members {names}")
    if pg.loop_wait + 2 * pg.retry_timeout > pg.ttl:
        problems.append(
            f"postgres.ttl: loop_wait + 2*retry_timeout ({pg.loop_wait + 2 * pg.retry_timeout}) "
            f"must be <= ttl ({pg.ttl})"
        )
    if not pg.patroni.startswith("/"):
        problems.append(f"postgres.patroni: {pg.patroni!r} must be an absolute path")
    if pg.patroni != DEBIAN_PATRONI and pg.ttl < PATRONI4_MIN_TTL:
        problems.append(
            f"postgres.ttl: {pg.ttl} is below {PATRONI4_MIN_TTL}, the minimum of Patroni 4 "
            f"({pg.patroni}); only Debian's Patroni 3 ({DEBIAN_PATRONI}) accepts less"
        )
    return problems


def _redis_problems(t: Topology) -> list[str]:
    missing = [
        f"redis.{region_name}: missing (every API region needs a Redis)"
        for region_name in t.api_regions
        if region_name not in t.redis
    ]
    unknown = [
        f"redis.{region_name}: unknown region"
        for region_name in t.redis
        if region_name not in t.regions
    ]
    return missing + unknown


def _port_clashes(t: Topology) -> list[str]:
    problems: list[str] = []
    seen: dict[tuple[str, int], str] = {}
    for host, port, owner in t.listeners():
        key = (host, port)
        if key in seen:
            problems.append(f"ports: {host}:{port} is used by both {seen[key]} and {owner}")
        else:
            seen[key] = owner
    return problems


def parse_topology(data: Any, source: str, doc: Document | None = None) -> Topology:
    """Validate raw YAML data; raise ConfigError listing every problem."""
    topology = validate(Topology, doc if doc is not None else Document(data, source))
    problems = _semantic_problems(topology)
    if problems:
        raise ConfigError(source, problems)
    return topology


def load_topology(path: Path | str | None = None) -> LoadedTopology:
    source = Path(path) if path else DEFAULT_TOPOLOGY
    doc = load_document(source)
    return LoadedTopology(parse_topology(doc.data, str(source), doc), source)

"""Command-line settings of one API replica, parsed and checked up front.

Every timing is in seconds and named so. Bad values raise
`bedrock.errors.InputError` naming the option; only `__main__` turns that into
exit code 2.
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bedrock.errors import InputError


@dataclass(frozen=True)
class ApiSettings:
    """Everything one replica needs; defaults are the fast-failover values."""

    host: str
    port: int
    region: str
    replica: str
    database_url: str
    redis_urls: tuple[str, ...]
    redis_cluster: bool = False
    database_read_url: str | None = None  # the region's own PostgreSQL member, for reads
    seed_items: int = 1000
    db_pool_size: int = 5
    db_connect_timeout_s: float = 1.0
    db_command_timeout_s: float = 2.0
    request_deadline_s: float = 2.5  # no DB-backed request waits longer than this
    redis_timeout_s: float = 0.5
    cache_ttl_s: int = 300
    cache_retry_after_s: float = 1.0  # after a cache error, skip Redis this long
    health_cache_s: float = 0.25
    health_timeout_s: float = 1.0
    graceful_shutdown_s: float = 5.0
    log_level: str = "info"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m stack.api",
        description="One replica of the reference API (stand-in for twinme/api).",
    )
    p.add_argument("--host", required=True, help="address to listen on")
    p.add_argument("--port", required=True, type=int, help="TCP port to listen on")
    p.add_argument("--region", required=True, help="region name, sent as X-Region")
    p.add_argument("--replica", required=True, help="replica name, sent as X-Replica")
    p.add_argument(
        "--database-url", required=True, help="postgresql://user@host:port/db (the leader route)"
    )
    p.add_argument(
        "--database-read-url",
        default=None,
        help="postgresql://user@host:port/db of the region's own PostgreSQL member (a"
        " streaming replica or the leader): reads go there first and fall back to"
        " --database-url; absent: every query uses --database-url",
    )
    p.add_argument(
        "--redis-url",
        required=True,
        action="append",
        dest="redis_urls",
        help="redis://host:port; repeat to give several cluster seed nodes",
    )
    p.add_argument(
        "--redis-cluster", action="store_true", help="talk Redis Cluster protocol (RedisCluster)"
    )
    p.add_argument("--seed-items", type=int, default=1000, help="items 1..N seeded if empty")
    p.add_argument(
        "--db-pool-size",
        type=int,
        default=5,
        help="max pooled PostgreSQL connections (plus one for health checks)",
    )
    p.add_argument("--db-connect-timeout-s", type=float, default=1.0)
    p.add_argument("--db-command-timeout-s", type=float, default=2.0)
    p.add_argument("--request-deadline-s", type=float, default=2.5)
    p.add_argument("--redis-timeout-s", type=float, default=0.5)
    p.add_argument("--health-cache-s", type=float, default=0.25)
    p.add_argument("--graceful-shutdown-s", type=float, default=5.0)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def _check_url(option: str, url: str, schemes: tuple[str, ...]) -> list[str]:
    parts = urlsplit(url)
    problems = []
    if parts.scheme not in schemes:
        problems.append(f"{option}: scheme must be one of {', '.join(schemes)}, got {url!r}")
    try:
        _ = parts.port
    except ValueError:
        problems.append(f"{option}: bad port in {url!r}")
    if not parts.hostname:
        problems.append(f"{option}: no host in {url!r}")
    return problems


def parse_settings(argv: Sequence[str] | None = None) -> ApiSettings:
    """Parse and validate; raise InputError listing every problem found."""
    args = build_parser().parse_args(argv)
    problems: list[str] = []
    try:
        ipaddress.ip_address(args.host)
    except ValueError:
        if args.host != "localhost":
            problems.append(f"--host: not an IP address: {args.host!r}")
    if not 0 < args.port < 65536:
        problems.append(f"--port: must be 1..65535, got {args.port}")
    for option, value in (("--region", args.region), ("--replica", args.replica)):
        if not value or not value.isprintable() or len(value) > 64:
            problems.append(f"{option}: must be 1..64 printable characters, got {value!r}")
    problems += _check_url("--database-url", args.database_url, ("postgresql", "postgres"))
    if args.database_read_url is not None:
        problems += _check_url(
            "--database-read-url", args.database_read_url, ("postgresql", "postgres")
        )
    for url in args.redis_urls:
        problems += _check_url("--redis-url", url, ("redis",))
    if not args.redis_cluster and len(args.redis_urls) > 1:
        problems.append("--redis-url: several given but --redis-cluster not set")
    if args.seed_items < 0:
        problems.append(f"--seed-items: must be >= 0, got {args.seed_items}")
    if args.db_pool_size < 1:
        problems.append(f"--db-pool-size: must be >= 1, got {args.db_pool_size}")
    for name in (
        "db_connect_timeout_s",
        "db_command_timeout_s",
        "request_deadline_s",
        "redis_timeout_s",
        "graceful_shutdown_s",
    ):
        if getattr(args, name) <= 0:
            problems.append(f"--{name.replace('_', '-')}: must be > 0")
    if args.health_cache_s < 0:
        problems.append("--health-cache-s: must be >= 0")
    if problems:
        raise InputError("bad arguments:\n" + "\n".join(f"  - {p}" for p in problems))
    return ApiSettings(
        host=args.host,
        port=args.port,
        region=args.region,
        replica=args.replica,
        database_url=args.database_url,
        redis_urls=tuple(args.redis_urls),
        redis_cluster=args.redis_cluster,
        database_read_url=args.database_read_url,
        seed_items=args.seed_items,
        db_pool_size=args.db_pool_size,
        db_connect_timeout_s=args.db_connect_timeout_s,
        db_command_timeout_s=args.db_command_timeout_s,
        request_deadline_s=args.request_deadline_s,
        redis_timeout_s=args.redis_timeout_s,
        health_cache_s=args.health_cache_s,
        graceful_shutdown_s=args.graceful_shutdown_s,
        log_level=args.log_level,
    )

"""The `/health` verdict: database and Redis probed together, cached briefly.

A health storm (every HAProxy check, Prometheus, the failover controller) shares
one probe at a time, and a result is reused for at most `ttl_s`, so the
dependencies see a bounded probe rate. The JSON is the contract the seed's
failover manager checks: `status`, `database`, `redis` (plus region, replica).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Probe = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class HealthReport:
    database_up: bool
    redis_up: bool

    @property
    def healthy(self) -> bool:
        return self.database_up and self.redis_up

    @property
    def status_code(self) -> int:
        return 200 if self.healthy else 503

    def as_json(self, region: str, replica: str) -> dict[str, str]:
        return {
            "status": "healthy" if self.healthy else "unhealthy",
            "database": "connected" if self.database_up else "disconnected",
            "redis": "connected" if self.redis_up else "disconnected",
            "region": region,
            "replica": replica,
        }


class HealthChecker:
    """Single-flight, briefly cached health probing."""

    def __init__(
        self,
        probe_database: Probe,
        probe_redis: Probe,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probe_database = probe_database
        self._probe_redis = probe_redis
        self._ttl_s = ttl_s
        self._clock = clock
        self._last: tuple[float, HealthReport] | None = None
        self._inflight: asyncio.Task[HealthReport] | None = None
        self.probes_run = 0

    async def _probe(self) -> HealthReport:
        self.probes_run += 1
        database_up, redis_up = await asyncio.gather(self._probe_database(), self._probe_redis())
        report = HealthReport(database_up=bool(database_up), redis_up=bool(redis_up))
        self._last = (self._clock(), report)
        return report

    async def report(self) -> HealthReport:
        if self._last is not None and self._clock() - self._last[0] < self._ttl_s:
            return self._last[1]
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.get_running_loop().create_task(self._probe())
        # shield: a client that hangs up must not cancel the probe others wait on
        return await asyncio.shield(self._inflight)

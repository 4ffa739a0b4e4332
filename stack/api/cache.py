"""Redis as a read-through cache that may fail without failing requests.

Standalone Redis uses `redis.asyncio.Redis`; a Redis Cluster uses
`redis.asyncio.cluster.RedisCluster` (slot map learnt from the seed nodes and
refreshed after connection errors). Every operation has a short timeout and one
retry without back-off (redis-py's default of many retries with back-off would
hold requests for seconds).

Cache failures never fail a request: `get` answers "no value" and writes are
dropped. After an error the cache is bypassed for `cache_retry_after_s` so a dead
or frozen Redis does not cost every request a timeout; `ping` (the health check)
always really asks Redis and closes the bypass as soon as Redis answers.

Limits: in cluster mode one dead master opens the bypass for every key, not only
its slots (the database absorbs the reads for that second).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.backoff import NoBackoff
from redis.retry import Retry

from stack.api.settings import ApiSettings

log = logging.getLogger("stack.api.cache")

CACHE_ERRORS = Counter(
    "api_cache_errors_total", "Redis operations that failed and were bypassed", ["op"]
)
CACHE_BYPASSED = Counter(
    "api_cache_bypassed_total", "Cache operations skipped while Redis was failing", ["op"]
)


class Breaker:
    """Open for `open_s` seconds after a failure; closes on the next success."""

    def __init__(self, open_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.open_s = open_s
        self._clock = clock
        self._open_until = 0.0

    def allows(self) -> bool:
        return self._clock() >= self._open_until

    def failed(self) -> None:
        self._open_until = self._clock() + self.open_s

    def succeeded(self) -> None:
        self._open_until = 0.0


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


class Cache:
    """get/set/delete of string values by key, plus `ping` for the health check."""

    def __init__(self, settings: ApiSettings) -> None:
        self._s = settings
        self._breaker = Breaker(settings.cache_retry_after_s)
        self._op_timeout_s = settings.redis_timeout_s * 2 + 0.1
        self._client: Any = None
        self._was_up: bool | None = None

    async def start(self) -> None:
        """Build the client; it connects lazily, so a down Redis does not block start-up."""
        common: dict[str, Any] = {
            "decode_responses": True,
            "socket_timeout": self._s.redis_timeout_s,
            "socket_connect_timeout": self._s.redis_timeout_s,
            "retry": Retry(NoBackoff(), 1),
            "health_check_interval": 0,
        }
        if self._s.redis_cluster:
            nodes = [ClusterNode(*_host_port(u)) for u in self._s.redis_urls]
            self._client = RedisCluster(startup_nodes=nodes, max_connections=512, **common)
        else:
            self._client = Redis.from_url(self._s.redis_urls[0], **common)

    async def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._client.aclose(), timeout=1.0)

    async def _call(self, op: str, fn: Callable[[], Any]) -> tuple[bool, Any]:
        if not self._breaker.allows():
            CACHE_BYPASSED.labels(op).inc()
            return False, None
        try:
            async with asyncio.timeout(self._op_timeout_s):
                result = await fn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            CACHE_ERRORS.labels(op).inc()
            self._breaker.failed()
            if self._was_up is not False:
                log.warning("redis failing, cache bypassed: %s: %s", type(exc).__name__, exc)
                self._was_up = False
            return False, None
        return True, result

    async def get(self, key: str) -> str | None:
        _ok, value = await self._call("get", lambda: self._client.get(key))
        return value if isinstance(value, str) else None

    async def set(self, key: str, value: str) -> None:
        await self._call("set", lambda: self._client.set(key, value, ex=self._s.cache_ttl_s))

    async def delete(self, key: str) -> None:
        await self._call("delete", lambda: self._client.delete(key))

    async def ping(self) -> bool:
        """PING (every primary in cluster mode), bypass or not; honest reachability."""
        try:
            async with asyncio.timeout(self._op_timeout_s):
                if self._s.redis_cluster:
                    await self._client.ping(target_nodes=RedisCluster.PRIMARIES)
                else:
                    await self._client.ping()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._breaker.failed()
            if self._was_up is not False:
                log.warning("redis unreachable: %s: %s", type(exc).__name__, exc)
            self._was_up = False
            return False
        self._breaker.succeeded()
        if self._was_up is not True:
            log.info("redis reachable")
        self._was_up = True
        return True

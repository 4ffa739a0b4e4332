"""Prometheus metrics of one replica and the ASGI middleware that records them.

Families (default registry, so the process collector's
`process_cpu_seconds_total` and `process_resident_memory_bytes` come along):
- `http_requests_total{route,method,status}` counter;
- `http_request_duration_seconds{route,method}` histogram, buckets dense in 1-100 ms;
- `http_requests_in_flight` gauge;
- `api_dependency_up{dependency}` gauge, the last health probe's view.

`route` is the route template (`/items/{id}`), never the raw path, so label
cardinality stays bounded; unmatched paths are `unmatched`. The middleware also
stamps `X-Region` and `X-Replica` on every response, errors included.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS_S = (
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.02,
    0.025,
    0.03,
    0.04,
    0.05,
    0.06,
    0.075,
    0.09,
    0.1,
    0.125,
    0.15,
    0.2,
    0.3,
    0.5,
    0.75,
    1.0,
    2.0,
    3.0,
    5.0,
    10.0,
)

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["route", "method", "status"])
DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration, first byte in to last byte out",
    ["route", "method"],
    buckets=LATENCY_BUCKETS_S,
)
IN_FLIGHT = Gauge("http_requests_in_flight", "HTTP requests being served")
DEPENDENCY_UP = Gauge(
    "api_dependency_up", "1 when the last health probe reached the dependency", ["dependency"]
)

KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
UNMATCHED = "unmatched"


class MetricsMiddleware:
    """Count, time and tag every HTTP request; pure ASGI (no per-request Request objects)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        region: str,
        replica: str,
        route_of_endpoint: Callable[[Any], str | None],
    ) -> None:
        self.app = app
        self._route_of_endpoint = route_of_endpoint
        self._extra_headers = [
            (b"x-region", region.encode("latin-1")),
            (b"x-replica", replica.encode("latin-1")),
        ]
        self._children: dict[tuple[str, ...], MetricWrapperBase] = {}

    def _child(self, metric: Any, labels: tuple[str, ...]) -> Any:
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering
        extra = self._extra_headers

        async def send_tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        started = time.perf_counter()
        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_tagged)
        finally:
            IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            route = self._route_of_endpoint(scope.get("endpoint")) or UNMATCHED
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            self._child(REQUESTS, (route, method, str(status))).inc()
            self._child(DURATION, (route, method)).observe(elapsed)

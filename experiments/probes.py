"""Chaos Toolkit probes on the local stack: health, latency and errors, leaders.

Latency and error probes read Prometheus; with no data they raise
ActivityFailed (no data never satisfies a hypothesis).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from chaoslib.exceptions import ActivityFailed

from bedrock.errors import GamedayError
from bedrock.prometheus import PrometheusUnavailable, instant, scalar
from experiments.common import open_stack

__all__ = [
    "entry_healthy",
    "api_p95_ms",
    "api_error_rate",
    "db_leader",
    "edge_active_region",
    "wait_for_entry_serving",
    "wait_for_db_leader_change",
]

Configuration = dict[str, Any] | None


def entry_healthy(timeout_s: float = 1.0, configuration: Configuration = None) -> bool:
    """True when the entry point's /health answers 200 with database and redis connected."""
    return url_healthy(open_stack(configuration).entry_url, timeout_s)


def url_healthy(entry_url: str, timeout_s: float = 1.0) -> bool:
    """`<entry_url>/health` answers 200 with database and redis connected (local and k8s)."""
    try:
        resp = httpx.get(f"{entry_url}/health", timeout=float(timeout_s))
        body = resp.json() if resp.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return False
    return bool(
        isinstance(body, dict)
        and body.get("status") == "healthy"
        and body.get("database") == "connected"
        and body.get("redis") == "connected"
    )


NO_DATA_SETTLE_S = 3.0  # one missed scrape must not fail a hypothesis; a real gap still does


def until_data(query: Callable[[], list[Any]], settle_s: float, pause_s: float = 0.5) -> list[Any]:
    """`query()` until it returns data, for at most `settle_s`; [] when it never does."""
    end = time.monotonic() + settle_s
    while True:
        result = query()
        if result or time.monotonic() >= end:
            return result
        time.sleep(pause_s)


def prometheus_scalar(
    prometheus_url: str, promql: str, settle_s: float = NO_DATA_SETTLE_S
) -> float:
    """One instant query's scalar; ActivityFailed when Prometheus fails or has no data (the
    one Prometheus probe of the local and the Kubernetes experiments). "No data" is asked
    again for up to `settle_s`: a short rate window can miss one scrape of a busy machine."""
    try:
        result = until_data(lambda: instant(prometheus_url, promql, timeout_s=3), settle_s)
    except PrometheusUnavailable as exc:
        raise ActivityFailed(f"prometheus query failed: {exc}") from None
    if not result:
        raise ActivityFailed(f"no data for {promql} (asked for {settle_s:.0f} s)")
    value = scalar(result)
    if value is None:
        raise ActivityFailed(f"no data (NaN) for {promql}")
    return value


def p95_query(window_s: int) -> str:
    """p95 of every API request over the last `window_s`, from the replicas' histograms."""
    w = f"{int(window_s)}s"
    return (
        f"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[{w}])))"
    )


def _prom_scalar(configuration: Configuration, promql: str) -> float:
    return prometheus_scalar(open_stack(configuration).prometheus_url, promql)


def api_p95_ms(window_s: int = 30, configuration: Configuration = None) -> float:
    """p95 latency in ms of every API request over the last `window_s`, from the replicas' histograms."""
    return _prom_scalar(configuration, p95_query(window_s)) * 1000.0


def api_error_rate(window_s: int = 30, configuration: Configuration = None) -> float:
    """Share of 5xx answers at the edge over the last `window_s` (0..1).

    No requests in the window (an idle stack) is 0.0, no errors: the edge's counters are
    there and did not move. No counters at all (the edge is not scraped) stays "no data"
    and raises ActivityFailed.
    """
    w = f"{int(window_s)}s"
    total = f'sum(rate(haproxy_frontend_http_responses_total{{proxy="fe_edge"}}[{w}]))'
    errors = f'sum(rate(haproxy_frontend_http_responses_total{{proxy="fe_edge",code="5xx"}}[{w}]))'
    # `> 0` drops the ratio when nothing was answered (0/0 = NaN); `== 0` then yields 0.
    q = f"({errors} / ({total} > 0)) or ({total} == 0)"
    return _prom_scalar(configuration, q)


def db_leader(configuration: Configuration = None) -> str:
    stack = open_stack(configuration)
    try:
        leader = stack.db_leader()
    except GamedayError as exc:
        raise ActivityFailed(str(exc)) from None
    if leader is None:
        raise ActivityFailed("no PostgreSQL leader")
    return leader


def edge_active_region(configuration: Configuration = None) -> str:
    stack = open_stack(configuration)
    active = stack.edge_active_regions()
    if len(active) != 1:
        raise ActivityFailed(f"edge routes to {active}, expected exactly one region")
    return active[0]


def wait_for_entry_serving(deadline_s: float = 60.0, configuration: Configuration = None) -> float:
    """Seconds until the entry point serves /health successfully; raises past the deadline."""
    return seconds_until_healthy(lambda: entry_healthy(0.5, configuration), deadline_s)


def seconds_until_healthy(healthy: Callable[[], bool], deadline_s: float) -> float:
    """Seconds until `healthy()` holds (polled every 0.1 s); ActivityFailed past the deadline
    (the local and the Kubernetes experiments' wait)."""
    start = time.monotonic()
    while time.monotonic() - start < float(deadline_s):
        if healthy():
            return time.monotonic() - start
        time.sleep(0.1)
    raise ActivityFailed(f"entry point not serving after {deadline_s} s")


def wait_for_db_leader_change(
    old: str = "pg-primary", deadline_s: float = 60.0, configuration: Configuration = None
) -> str:
    """The new leader's name once Patroni has promoted someone other than `old`."""
    stack = open_stack(configuration)
    end = time.monotonic() + float(deadline_s)
    while time.monotonic() < end:
        try:
            leader = stack.db_leader()
        except GamedayError:
            leader = None
        if leader and leader != old:
            return leader
        time.sleep(0.2)
    raise ActivityFailed(f"PostgreSQL leader still {old} (or none) after {deadline_s} s")

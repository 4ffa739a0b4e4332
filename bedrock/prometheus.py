"""Every Prometheus query of the project goes through here, on prometheus-api-client.

`Prometheus(url).instant(promql)` and `.range_query(promql, start, end, step_s)` (and the
one-shot `instant(url, promql)`) return the API's
`data.result` list; any failure (unreachable, HTTP status, a body that is not the API's)
raises `PrometheusUnavailable` with the reason, which callers turn into their own error
(the autoscaler: a retryable ActionError; a chaos probe: ActivityFailed; the live monitor:
no figure). No retries here: each caller has its own deadline and period, and a probe sets
its own retries (DESIGN's trap with redis-py's default retries applies to HTTP too).
`scalar(result)` reads the first sample's value; NaN (no samples in the window) is None.

`requests` (the library's transport) is imported on first use, not at import time: a Locust
process must import locust first (DESIGN.md, known traps).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

#: the API's answer: one dict per series, `metric` labels and `value` or `values`
Result = list[dict[str, Any]]


class PrometheusUnavailable(Exception):
    """A Prometheus query failed; the message says where and why."""


class Prometheus:
    """One Prometheus server; keeps one HTTP session (close it, or use `with`)."""

    def __init__(self, url: str, *, timeout_s: float = 2.0) -> None:
        from prometheus_api_client import PrometheusConnect
        from urllib3.util.retry import Retry

        self.url = url.rstrip("/")
        self._api = PrometheusConnect(
            url=self.url, retry=Retry(total=0, raise_on_status=False), timeout=timeout_s
        )

    def __enter__(self) -> Prometheus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._api.close()

    def instant(self, promql: str) -> Result:
        """An instant query (`/api/v1/query`) at now."""
        return self._run(lambda api: api.custom_query(promql))

    def range_query(self, promql: str, start_wall: float, end_wall: float, step_s: float) -> Result:
        """A range query (`/api/v1/query_range`). The library rounds start and end to whole
        seconds; `params` overrides them with the exact times (Prometheus takes fractions)."""
        start = datetime.fromtimestamp(start_wall, tz=UTC)
        end = datetime.fromtimestamp(end_wall, tz=UTC)
        exact = {"start": start_wall, "end": end_wall}
        return self._run(
            lambda api: api.custom_query_range(promql, start, end, f"{step_s:g}s", params=exact)
        )

    def _run(self, call: Callable[[Any], Any]) -> Result:
        from prometheus_api_client.exceptions import PrometheusApiClientException
        from requests import RequestException

        try:
            result = call(self._api)
        except (RequestException, PrometheusApiClientException) as exc:
            raise PrometheusUnavailable(f"prometheus {self.url}: {exc}"[:300]) from None
        except (KeyError, TypeError, ValueError) as exc:  # a body that is not the API's
            raise PrometheusUnavailable(
                f"prometheus {self.url}: unexpected answer ({exc})"
            ) from None
        if not isinstance(result, list):
            raise PrometheusUnavailable(f"prometheus {self.url}: unexpected answer (not a list)")
        return result


def instant(url: str, promql: str, *, timeout_s: float = 2.0) -> Result:
    """One instant query on a fresh session."""
    with Prometheus(url, timeout_s=timeout_s) as prom:
        return prom.instant(promql)


def scalar(result: Result) -> float | None:
    """The first series' value; None when there is no series or the value is NaN."""
    if not result:
        return None
    value = float(result[0]["value"][1])
    return None if math.isnan(value) else value

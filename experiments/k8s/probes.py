"""Probes the Kubernetes experiments need beside chaostoolkit-kubernetes' own.

Prometheus probes read the cluster's Prometheus (`prometheus_url` in the experiment's
configuration) through the local experiments' one probe (experiments/probes.py
`prometheus_scalar`, as is the health check); no data raises ActivityFailed (no data never
satisfies a hypothesis), while a window with no requests at all is an error rate of 0. The
error rate's query differs from the local one on purpose: the cluster counts the API pods'
answers, the local stack its edge's.
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed

from experiments.probes import p95_query, prometheus_scalar, seconds_until_healthy, url_healthy

__all__ = ["entry_healthy", "api_p95_ms", "api_error_rate", "wait_for_entry_serving"]

Configuration = dict[str, Any] | None


def _setting(configuration: Configuration, key: str) -> str:
    value = (configuration or {}).get(key)
    if not value:
        raise ActivityFailed(f"the experiment's configuration has no {key!r}")
    return str(value).rstrip("/")


def entry_healthy(timeout_s: float = 1.0, configuration: Configuration = None) -> bool:
    """True when `<entry_url>/health` answers 200 with database and redis connected."""
    return url_healthy(_setting(configuration, "entry_url"), timeout_s)


def _prom_scalar(configuration: Configuration, promql: str) -> float:
    return prometheus_scalar(_setting(configuration, "prometheus_url"), promql)


def api_p95_ms(window_s: int = 30, configuration: Configuration = None) -> float:
    """p95 latency in ms of every API request over the last `window_s` (the pods' histograms)."""
    return _prom_scalar(configuration, p95_query(window_s)) * 1000.0


def api_error_rate(window_s: int = 30, configuration: Configuration = None) -> float:
    """Share of 5xx answers of the API pods over the last `window_s` (0..1); 0 when idle."""
    w = f"{int(window_s)}s"
    total = f"sum(rate(http_requests_total[{w}]))"
    errors = f'sum(rate(http_requests_total{{status=~"5.."}}[{w}]))'
    # A 5xx series exists only once a 5xx was answered: none is 0 errors (`or vector(0)`).
    # `> 0` drops the ratio when nothing was answered (0/0); `== 0` then yields 0.
    return _prom_scalar(
        configuration, f"(({errors} or vector(0)) / ({total} > 0)) or ({total} == 0)"
    )


def wait_for_entry_serving(deadline_s: float = 60.0, configuration: Configuration = None) -> float:
    """Seconds until the entry point serves /health successfully; raises past the deadline."""
    return seconds_until_healthy(lambda: entry_healthy(0.5, configuration), deadline_s)

"""MetricsSource backed by Prometheus's HTTP API (instant queries, bedrock.prometheus).

Per replica of a region (series labelled `region` and `replica`, as the local stack's file_sd
targets are): req/s = rate of `http_requests_total`; CPU utilisation = rate of
`process_cpu_seconds_total` (prometheus-client's default process metrics) over the configured
CPU request in millicores; memory utilisation = `process_resident_memory_bytes` over the
configured memory request. Only targets whose last scrape succeeded (`up == 1`) count, so a
stopped replica drops out at once instead of lingering for a rate window. A replica with no
series for a metric has no key for it (the algorithm treats it as missing). HTTP or query
errors raise ActionError(retryable=True); the daemon then decides nothing that cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bedrock.errors import ActionError
from bedrock.prometheus import Prometheus, PrometheusUnavailable


@dataclass(frozen=True)
class PrometheusSettings:
    url: str
    job: str = "api"
    region_label: str = "region"
    replica_label: str = "replica"
    rate_window_s: int = 10  # >= 4 scrape intervals
    cpu_request_millicores: float = 1000.0
    memory_request_bytes: float = 256 * 2**20
    timeout_s: float = 2.0


class PrometheusMetrics:
    def __init__(self, settings: PrometheusSettings, client: Prometheus | None = None) -> None:
        if settings.cpu_request_millicores <= 0 or settings.memory_request_bytes <= 0:
            raise ValueError("resource requests must be positive")
        self.settings = settings
        self.client = client or Prometheus(settings.url, timeout_s=settings.timeout_s)

    def queries(self, region: str) -> dict[str, str]:
        s = self.settings
        sel = f'{{job="{s.job}",{s.region_label}="{region}"}}'
        w = f"[{s.rate_window_s}s]"
        by = f"by ({s.replica_label})"
        up = f"and on ({s.replica_label}) (max {by} (up{sel}) == 1)"
        cores_to_pct = 100000.0 / s.cpu_request_millicores  # cores * 1000 m / request * 100
        return {
            "http_requests_per_second": f"(sum {by} (rate(http_requests_total{sel}{w}))) {up}",
            "cpu_utilization": (
                f"(sum {by} (rate(process_cpu_seconds_total{sel}{w})) * {cores_to_pct!r}) {up}"
            ),
            "memory_utilization": (
                f"(max {by} (process_resident_memory_bytes{sel}) * "
                f"{100.0 / s.memory_request_bytes!r}) {up}"
            ),
        }

    def _query(self, promql: str) -> list[dict[str, Any]]:
        try:
            return self.client.instant(promql)
        except PrometheusUnavailable as exc:
            raise ActionError(str(exc), retryable=True) from exc

    def per_replica(self, region: str) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        label = self.settings.replica_label
        for key, promql in self.queries(region).items():
            for series in self._query(promql):
                name = series.get("metric", {}).get(label)
                if not name:
                    continue
                try:
                    value = float(series["value"][1])
                except (KeyError, IndexError, TypeError, ValueError):
                    continue
                if value == value:  # NaN (no samples in the window) is missing, not 0
                    out.setdefault(name, {})[key] = value
        return out

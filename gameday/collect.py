"""Evidence gathered after a run's load stops: ledger read-back, controller events, metrics.

I/O only: each function writes one file of the run folder (docs/run-folder.md)
and decides nothing.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bedrock.prometheus import Prometheus, PrometheusUnavailable
from bedrock.runfolder import events, ledger, metrics, readback, stacklogs
from bedrock.version import __version__

METRIC_QUERIES = {
    "edge_rps": 'sum(rate(haproxy_frontend_http_requests_total{proxy="fe_edge"}[5s]))',
    "edge_5xx_ratio": (
        'sum(rate(haproxy_frontend_http_responses_total{proxy="fe_edge",code="5xx"}[5s])) / '
        'sum(rate(haproxy_frontend_http_responses_total{proxy="fe_edge"}[5s]))'
    ),
    "api_p95_s": "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5s])))",
    "api_rps_by_region": 'sum by (region) (rate(http_requests_total{job="api"}[5s]))',
    "api_replicas_up_by_region": 'sum by (region) (up{job="api"})',
    "api_cpu_by_replica": 'rate(process_cpu_seconds_total{job="api"}[5s])',
    "api_rss_by_replica": 'process_resident_memory_bytes{job="api"}',
    "regional_lb_servers_up": 'sum by (proxy, instance) (haproxy_backend_active_servers{proxy="be_api"})',
    "targets_up": "sum by (job) (up)",
}


def read_back_ledger(
    entry_url: str, client: str, run_dir: Path, deadline_s: float = 60.0
) -> Path | None:
    """Read every stored sequence of this run's ledger client back through the entry point."""
    if not ledger.exists(run_dir):
        return None
    seqs: list[int] = []
    after: int | None = None
    end = time.monotonic() + deadline_s
    error = ""
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < end:
            # consistent=1: read from the leader, never a lagging replica (an
            # acknowledged write must not look lost because a replica is behind).
            params: dict[str, Any] = {"client": client, "limit": 10000, "consistent": 1}
            if after is not None:
                params["after"] = after
            try:
                resp = http.get(f"{entry_url}/ledger", params=params)
            except httpx.HTTPError as exc:
                error = type(exc).__name__
                time.sleep(0.5)
                continue
            if resp.status_code != 200:
                error = f"HTTP {resp.status_code}"
                time.sleep(0.5)
                continue
            batch = [int(s) for s in resp.json().get("seqs", [])]
            seqs.extend(batch)
            if len(batch) < 10000:
                error = ""
                break
            after = batch[-1]
    if error:
        # No read-back is no evidence: the RPO verdict will be inconclusive.
        readback.write_readback_error(run_dir, f"ledger read-back failed: {error}")
        return None
    readback.write_readback(run_dir, client, seqs, f"GET {entry_url}/ledger")
    return readback.path_of(run_dir)


def merge_stack_events(
    events_dir: Path | None, run_dir: Path, start_wall: float, end_wall: float
) -> int:
    """Copy the controllers' (and autoscaler's) events inside the run window into events.jsonl
    (`events_dir`: the target's `handles.events_dir`; None when it has none)."""
    copied = 0
    if events_dir is None:
        return copied
    for path in sorted(events_dir.glob("*.jsonl")):
        window = [
            e
            for e in events.read_event_file(path)
            if start_wall - 1 <= e.t_wall <= end_wall + 1
        ]
        copied += events.copy_events(run_dir, window)
    return copied


def collect_metrics(
    prometheus_url: str, run_dir: Path, start_wall: float, end_wall: float, step_s: int = 1
) -> None:
    queries: dict[str, Any] = {}
    with Prometheus(prometheus_url, timeout_s=10) as prom:
        for name, promql in METRIC_QUERIES.items():
            entry: dict[str, Any] = {"promql": promql}
            try:
                entry["result"] = prom.range_query(promql, start_wall, end_wall, step_s)
            except PrometheusUnavailable as exc:
                entry["error"] = str(exc)[:200]
            queries[name] = entry
    metrics.write_metrics(run_dir, start_wall, end_wall, step_s, queries)


def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def running_patroni_version(patroni_urls: dict[str, str]) -> str:
    """The version the stack's Patroni members report (GET /patroni), not the one on PATH:
    the stack may run a Patroni from its own environment (docs/patroni.md)."""
    seen = set()
    for url in patroni_urls.values():
        try:
            body = httpx.get(f"{url}/patroni", timeout=2.0).json()
        except (httpx.HTTPError, ValueError):
            continue
        found = (body.get("patroni") or {}).get("version") if isinstance(body, dict) else None
        if isinstance(found, str):
            seen.add(found)
    return ", ".join(f"patroni {v}" for v in sorted(seen)) or "unknown (no member answered)"


def versions(patroni_urls: dict[str, str] | None = None) -> dict[str, str]:
    from importlib.metadata import version

    # Not `import locust`: it monkey-patches this process for gevent.
    return {
        "gameday": __version__,
        "postgresql": _first_line(["/usr/lib/postgresql/15/bin/postgres", "--version"]),
        "patroni": running_patroni_version(patroni_urls or {}),
        "etcd": _first_line(["/usr/bin/etcd", "--version"]),
        "redis": _first_line(["/usr/bin/redis-server", "--version"]),
        "haproxy": _first_line(["/usr/sbin/haproxy", "-v"]),
        "prometheus": _first_line(["/usr/bin/prometheus", "--version"]),
        "locust": version("locust"),
        "chaostoolkit-lib": version("chaostoolkit-lib"),
    }


STACK_LOG_CAP_BYTES = 4 * 1024 * 1024  # per file: the end of a larger slice is kept


def stack_log_offsets(logs_dir: Path) -> dict[str, int]:
    """Where each stack log ends now: the run's slice starts there."""
    return {p.name: p.stat().st_size for p in sorted(logs_dir.glob("*.log")) if p.is_file()}


def copy_stack_logs(logs_dir: Path, offsets: dict[str, int], run_dir: Path) -> list[str]:
    """Copy what each stack process logged during the run into `<run>/stack-logs/`.

    A log that shrank (rotated or recreated) is copied from its start; a new log whole.
    Returns the names copied (files that logged nothing are skipped)."""
    copied = []
    for path in sorted(logs_dir.glob("*.log")):
        try:
            with path.open("rb") as fh:
                end = fh.seek(0, 2)
                start = offsets.get(path.name, 0)
                if end < start:
                    start = 0
                start = max(start, end - STACK_LOG_CAP_BYTES)
                fh.seek(start)
                data = fh.read(end - start)
        except OSError:
            continue
        if data:
            stacklogs.write_slice(run_dir, path.name, data)
            copied.append(path.name)
    return copied

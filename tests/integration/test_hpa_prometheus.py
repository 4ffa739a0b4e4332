"""PrometheusMetrics against a real Prometheus scraping two real exporters on 127.0.4.1.

The exporters publish counters that grow at known rates (computed from the clock at scrape
time), so the expected per-replica figures are exact up to Prometheus's extrapolation.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from autoscaler.prometheus import PrometheusMetrics, PrometheusSettings
from bedrock.errors import ActionError
from bedrock.prometheus import Prometheus, PrometheusUnavailable
from tests.support.ports import free_port
from tests.support.waiting import wait_for

HOST = "127.0.4.1"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
pytestmark = pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="prometheus not installed")


class Replica:
    """A fake API replica's /metrics: req/s, CPU cores and RSS known in advance."""

    def __init__(self, rps: float, cores: float, rss: float) -> None:
        self.rps, self.cores, self.rss = rps, cores, rss
        self.t0 = time.time()

    def collect(self) -> Iterator[Any]:
        elapsed = time.time() - self.t0
        c = CounterMetricFamily("http_requests", "requests", labels=["route"])
        c.add_metric(["/items/{id}"], self.rps * elapsed)
        yield c
        yield CounterMetricFamily("process_cpu_seconds", "cpu", value=self.cores * elapsed)
        yield GaugeMetricFamily("process_resident_memory_bytes", "rss", value=self.rss)


@pytest.fixture()
def stack(tmp_path: Path) -> Iterator[tuple[str, list[Any]]]:
    servers = []
    targets = []
    for name, (rps, cores, rss) in {
        "api-primary-0": (120.0, 0.25, 128 * 2**20),
        "api-primary-1": (40.0, 0.5, 64 * 2**20),
    }.items():
        registry = CollectorRegistry()
        registry.register(Replica(rps, cores, rss))  # type: ignore[arg-type]
        port = free_port(HOST)
        server, thread = start_http_server(port, addr=HOST, registry=registry)
        servers.append(server)
        targets.append(
            {"targets": [f"{HOST}:{port}"], "labels": {"region": "primary", "replica": name}}
        )
    (tmp_path / "api.yml").write_text(yaml.safe_dump(targets))
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
        "scrape_configs": [
            {
                "job_name": "api",
                "file_sd_configs": [
                    {"files": [str(tmp_path / "api.yml")], "refresh_interval": "1s"}
                ],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port(HOST)
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address={HOST}:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://{HOST}:{port}", servers
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
        for s in servers:
            s.shutdown()


def test_per_replica_figures_from_a_real_prometheus(stack: tuple[str, list[Any]]) -> None:
    url, servers = stack
    source = PrometheusMetrics(
        PrometheusSettings(
            url=url, rate_window_s=5, cpu_request_millicores=500, memory_request_bytes=256 * 2**20
        )
    )

    def both() -> dict[str, dict[str, float]] | None:
        got = source.per_replica("primary")
        full = len(got) == 2 and all(len(v) == 3 for v in got.values())
        return got if full else None

    wait_for(both, 60, "both replicas' three figures")

    def window_full() -> dict[str, dict[str, float]] | None:
        # until the series are older than the rate window, rate() under-extrapolates
        got = both()
        if not got:
            return None
        a = got["api-primary-0"]["http_requests_per_second"]
        b = got["api-primary-1"]["http_requests_per_second"]
        return got if abs(a - 120) < 12 and abs(b - 40) < 4 else None  # scrape jitter

    got = wait_for(window_full, 30, "a full rate window")
    a, b = got["api-primary-0"], got["api-primary-1"]
    assert a["http_requests_per_second"] == pytest.approx(120, rel=0.1)
    assert b["http_requests_per_second"] == pytest.approx(40, rel=0.1)
    assert a["cpu_utilization"] == pytest.approx(50, rel=0.1)  # 0.25 core of a 500 m request
    assert b["cpu_utilization"] == pytest.approx(100, rel=0.1)
    assert a["memory_utilization"] == pytest.approx(50)
    assert b["memory_utilization"] == pytest.approx(25)
    assert source.per_replica("secondary") == {}

    # the range query (run reports' metrics.json) through the same client: 1 s steps, exact ends
    now = time.time()
    with Prometheus(url) as prom:
        series = prom.range_query('up{job="api"}', now - 4.5, now - 0.5, 1)
        assert sorted(s["metric"]["replica"] for s in series) == ["api-primary-0", "api-primary-1"]
        for s in series:  # steps from the exact start (not rounded to a second), 1 s apart
            offsets = [t - (now - 4.5) for t, _ in s["values"]]
            assert 1 <= len(offsets) <= 5 and offsets[-1] == pytest.approx(4, abs=0.001)
            assert all(o == pytest.approx(round(o), abs=0.001) for o in offsets)
        with pytest.raises(PrometheusUnavailable, match="400"):
            prom.instant("sum(")  # a bad query is an error, never an empty answer

    servers[1].shutdown()  # replica 1 stops answering: it must drop out at once
    servers[1].server_close()
    wait_for(lambda: set(source.per_replica("primary")) == {"api-primary-0"}, 30, "replica 1 gone")


def test_unreachable_prometheus_is_a_retryable_action_error() -> None:
    source = PrometheusMetrics(
        PrometheusSettings(url=f"http://{HOST}:{free_port(HOST)}", timeout_s=0.5)
    )
    with pytest.raises(ActionError) as info:
        source.per_replica("primary")
    assert info.value.retryable

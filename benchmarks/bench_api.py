"""Throughput of ONE reference-API replica: req/s on /static and /items/{id} (cache hit).

Starts its own PostgreSQL 15, Redis and one API replica in 127.0.5.0/24, then runs
`wrk -t1 -c32 -d5s --latency` against each route and prints req/s, latency
percentiles, non-2xx counts and the replica's CPU seconds per 1k requests (from
its own /metrics). Not a test: figures depend on the machine's load, printed with
the load average. Needs root (PostgreSQL runs as the postgres user).

    /work/venv/bin/python benchmarks/bench_api.py [--duration 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from tests.support.api_servers import ApiServer, Postgres, Redis  # noqa: E402


def wrk(url: str, duration_s: int, connections: int) -> dict[str, str]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=duration_s + 30,
        check=True,
    ).stdout
    fields = {"rps": re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        fields[f"p{pct}"] = m.group(1) if m else "?"
    m = re.search(r"(\d+) requests in", out)
    fields["requests"] = m.group(1) if m else "?"
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    fields["non2xx"] = m.group(1) if m else "0"
    m = re.search(r"Socket errors: (.*)", out)
    fields["socket_errors"] = m.group(1) if m else "none"
    return fields


def process_metric(api: ApiServer, family_name: str) -> float:
    for family in text_string_to_metric_families(api.client.get("/metrics").text):
        if family.name == family_name:
            return float(family.samples[0].value)
    raise RuntimeError(f"no {family_name} in /metrics")


def cpu_seconds(api: ApiServer) -> float:
    return process_metric(api, "process_cpu_seconds")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()

    pg, redis = Postgres("127.0.5.20"), Redis("127.0.5.31")
    api = ApiServer("127.0.5.50", 8131, pg.url, [redis.url], replica="api-bench")
    try:
        pg.start()
        redis.start()
        listen_s = api.start()
        healthy_s = api.wait_healthy()
        assert api.client.get("/items/42").status_code == 200  # warm the cache
        assert api.client.get("/items/42").json()["cache"] == "hit"
        print(f"replica listening after {listen_s:.2f} s, healthy {healthy_s:.2f} s later")
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)")
        print(f"wrk -t1 -c{args.connections} -d{args.duration}s, one replica:")
        for route, path in (("/static", "/static"), ("/items/{id} (hit)", "/items/42")):
            cpu_before = cpu_seconds(api)
            f = wrk(api.base_url + path, args.duration, args.connections)
            cpu_used = cpu_seconds(api) - cpu_before
            per_k = cpu_used / max(int(f["requests"]), 1) * 1000 if f["requests"] != "?" else 0
            print(
                f"  {route:<18} {float(f['rps']):>8.0f} req/s  p50 {f['p50']:>8} "
                f"p90 {f['p90']:>8} p99 {f['p99']:>8}  requests {f['requests']}, "
                f"non-2xx {f['non2xx']}, socket errors {f['socket_errors']}, "
                f"API CPU {cpu_used:.2f} s ({per_k * 1000:.0f} us/request)"
            )
        rss_mb = process_metric(api, "process_resident_memory_bytes") / 1e6
        print(f"replica resident memory after the runs: {rss_mb:.0f} MB")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        for server in (api, redis, pg):
            try:
                server.cleanup()
            except Exception as exc:  # keep cleaning the others
                print(f"cleanup of {server}: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

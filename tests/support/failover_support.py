"""Real processes and small servers for the failover tests (etcd, HAProxy, region stubs).

Etcd and HAProxy are tests/support/processes.py's `Process` with `start(max_wait_s)` polling
readiness (tests/support/waiting.py); logs stay in the temp dir for failures.
`RegionServer` is a tiny HTTP server playing one region's API for the edge and
the controller: `/health` answers like the reference API (docs/reference-api.md)
and can be told to fail (`healthy = False`, or `database = "disconnected"`);
every answer carries `X-Region`. Addresses are in 127.0.7.0/24 (this area's range).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port
from tests.support.processes import Process
from tests.support.waiting import wait_for

__all__ = [
    "Etcd",
    "FlagFileStack",
    "HAProxy",
    "Process",
    "RegionServer",
    "ScriptedStack",
    "free_port",
    "wait_for",
]


class Etcd(Process):
    def __init__(self, workdir: Path, host: str = "127.0.7.10") -> None:
        self.client_url = f"http://{host}:{free_port(host)}"
        peer = f"http://{host}:{free_port(host)}"
        super().__init__(
            [
                "etcd", "--name", "fo", "--data-dir", str(workdir / "etcd-data"),
                "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", f"fo={peer}", "--heartbeat-interval", "50", "--election-timeout", "300",
            ],
            workdir / "etcd.log",
        )  # fmt: skip

    def start(self, max_wait_s: float = 15.0) -> Etcd:
        self.spawn()

        def ready() -> bool:
            try:
                return (
                    httpx.get(self.client_url + "/health", timeout=0.5).json().get("health")
                    == "true"
                )
            except (httpx.HTTPError, ValueError):
                return False

        wait_for(ready, max_wait_s, f"etcd at {self.client_url}\n{self.log()}")
        return self


HAPROXY_CFG = """
global
  stats socket {sock} level admin mode 600
defaults
  mode http
  timeout connect 500ms
  timeout client 5s
  timeout server 5s
  retries 0
frontend fe_edge
  bind {host}:{port}
  default_backend be_regions
backend be_regions
{servers}
"""


class HAProxy(Process):
    """The edge: backend be_regions, one server per region named after it; the first is active."""

    def __init__(self, workdir: Path, regions: dict[str, str], host: str = "127.0.7.2") -> None:
        self.socket = workdir / "edge-admin.sock"
        self.port = free_port(host)
        self.url = f"http://{host}:{self.port}"
        servers = "\n".join(
            f"  server {name} {addr}" + ("" if i == 0 else " disabled")
            for i, (name, addr) in enumerate(regions.items())
        )
        cfg = workdir / "edge.cfg"
        cfg.write_text(
            HAPROXY_CFG.format(sock=self.socket, host=host, port=self.port, servers=servers)
        )
        super().__init__(["haproxy", "-f", str(cfg), "-db"], workdir / "haproxy.log")

    def start(self, max_wait_s: float = 10.0) -> HAProxy:
        self.spawn()
        wait_for(self.socket.exists, max_wait_s, f"haproxy admin socket\n{self.log()}")
        return self


class RegionServer:
    """One region's API stand-in: `/health` (reference API shape) and `/` answering with X-Region."""

    def __init__(self, region: str, host: str, port: int = 0) -> None:
        self.region = region
        self.healthy = True
        self.database = "connected"
        self.redis = "connected"
        self.hits = 0
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                srv.hits += 1
                if self.path.startswith("/health"):
                    if not srv.healthy:
                        self.send_response(503)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    ok = srv.database == "connected" and srv.redis == "connected"
                    body = {
                        "status": "healthy" if ok else "unhealthy",
                        "database": srv.database,
                        "redis": srv.redis,
                        "region": srv.region,
                    }
                    code = 200 if ok else 503
                else:
                    body, code = {"region": srv.region}, 200
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Region", srv.region)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.addr = "{}:{}".format(*self.httpd.server_address[:2])
        self.health_url = f"http://{self.addr}/health"
        threading.Thread(
            target=lambda: self.httpd.serve_forever(poll_interval=0.05), daemon=True
        ).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ScriptedStack:
    """A stand-in local stack: replicas become ready `ready_after` polls after a scale."""

    def __init__(self, ready_after: int = 2) -> None:
        self.wanted: dict[str, int] = {"primary": 3, "secondary": 1}
        self.polls = 0
        self.ready_after = ready_after
        self.broken = False
        self.scale_calls = 0

    def scale(self, region: str, replicas: int) -> None:
        self.scale_calls += 1
        if self.broken:
            raise RuntimeError("supervisord unreachable")
        self.wanted[region] = replicas
        self.polls = 0

    def ready_replicas(self, region: str) -> int:
        self.polls += 1
        return self.wanted[region] if self.polls > self.ready_after else 0


class FlagFileStack:
    """A StackControl for the daemon tests: replicas are ready once `ready_flag` exists.

    Lives in a file so that controller processes and the test share it; `scale`
    appends to `scale_log` so the test can see who scaled what.
    """

    def __init__(self, ready_flag: str, scale_log: str) -> None:
        self.ready_flag = Path(ready_flag)
        self.scale_log = Path(scale_log)

    def scale(self, region: str, replicas: int) -> None:
        with self.scale_log.open("a") as fh:
            fh.write(f"{region} {replicas}\n")

    def ready_replicas(self, region: str) -> int:
        return 100 if self.ready_flag.exists() else 0


if __name__ == "__main__":
    # `python -m tests.support.failover_support NAME HOST PORT`: a stand-in region process
    import sys

    _name, _host, _port = sys.argv[1:4]
    RegionServer(_name, _host, int(_port))
    threading.Event().wait()

"""A stand-in API replica for the autoscaler testbed: real process, real CPU, real /metrics.

GET /work burns `--work-ms` of CPU and counts `http_requests_total`; /health answers once the
process has slept `--startup-delay` (a replica's boot); /metrics is prometheus-client's
default registry (so `process_cpu_seconds_total` and `process_resident_memory_bytes` are the
real process's). HTTP/1.1 keep-alive, one thread per connection. Not the reference API: it
has no database or cache behind it.
"""

from __future__ import annotations

import argparse
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

REQUESTS = Counter("http_requests", "requests served", ["route", "method", "status"])


def make_handler(work_s: float, name: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = (
            True  # headers and body are two writes: no 40 ms delayed-ACK stall
        )

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

        def _send(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Replica", name)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/work":
                end = time.thread_time() + work_s
                while time.thread_time() < end:
                    pass
                REQUESTS.labels("/work", "GET", "200").inc()
                self._send(200, b"ok")
            elif self.path == "/health":
                self._send(200, b"healthy")
            elif self.path == "/metrics":
                self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            else:
                self._send(404, b"not found")

    return Handler


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--work-ms", type=float, default=1.0)
    p.add_argument("--startup-delay", type=float, default=1.0)
    a = p.parse_args()
    time.sleep(a.startup_delay)
    server = ThreadingHTTPServer((a.host, a.port), make_handler(a.work_ms / 1000.0, a.name))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()

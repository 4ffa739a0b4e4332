"""The controller's HTTP face: `GET /metrics`, `GET /status`, `POST /failback`, `GET /healthz`.

Served from a daemon thread with the standard library's ThreadingHTTPServer;
handlers only read the controller's status or set the failback request.
`/status` never contains secrets (the config's secrets are not part of it).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from failover.controller import Controller


class StatusServer:
    def __init__(self, controller: Controller, host: str, port: int) -> None:
        ctl = controller

        class Handler(BaseHTTPRequestHandler):
            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, code: int, obj: Any) -> None:
                self._send(code, json.dumps(obj, indent=1).encode(), "application/json")

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                if path == "/metrics":
                    self._send(
                        200, ctl.metrics.render(), "text/plain; version=0.0.4; charset=utf-8"
                    )
                elif path == "/status":
                    self._json(200, ctl.status())
                elif path == "/healthz":
                    self._json(200, {"ok": True, "leader": ctl.is_leader})
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                if self.path.split("?")[0] != "/failback":
                    self._json(404, {"error": "not found"})
                    return
                code, body = ctl.request_failback()
                if code == 409 and not ctl.is_leader:
                    body["leader_url"] = (ctl.lock.read_state() or {}).get("leader_url")
                self._json(code, body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="status-http", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

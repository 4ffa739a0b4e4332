"""Serve the live page on loopback: GET / (page), /static/* (assets), /state (JSON), /events (SSE).

The page is rendered once by slo.pages (the one template system); live.js and live.css ship
in gameday/live/static.

A stdlib ThreadingHTTPServer in a daemon thread; each SSE client gets the full state
whenever the board's version moves (and a comment every 15 s to keep the stream open).
"""

from __future__ import annotations

import ipaddress
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from bedrock.errors import InputError
from gameday.live.board import LiveBoard
from slo.pages import live_shell

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}
ASSETS = ("live.js", "live.css")


def _asset(name: str) -> bytes:
    return resources.files("gameday.live").joinpath("static", name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    board: LiveBoard
    stopping: threading.Event
    page: bytes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        return

    def _send(self, body: bytes, ctype: str, code: int = 200) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send(self.page, TYPES[".html"])
        elif path.startswith("/static/") and path[len("/static/") :] in ASSETS:
            name = path[len("/static/") :]
            self._send(_asset(name), TYPES["." + name.rsplit(".", 1)[1]])
        elif path == "/state":
            _, state = self.board.snapshot()
            self._send(json.dumps(state).encode(), "application/json")
        elif path == "/events":
            self._stream()
        else:
            self._send(b"not found", "text/plain", 404)

    def _stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = -1
        try:
            while not self.stopping.is_set():
                version, state = self.board.snapshot()
                if version != seen:
                    seen = version
                    self.wfile.write(f"data: {json.dumps(state)}\n\n".encode())
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                self.board.wait_newer(seen, 15.0)
        except (BrokenPipeError, ConnectionResetError):
            return


class LiveServer:
    """The page's server; `url` once started. Loopback addresses only."""

    def __init__(self, board: LiveBoard, host: str = "127.0.0.1", port: int = 0) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise InputError(f"--live-host {host}: the live view serves on loopback only")
        stopping = threading.Event()
        attrs = {"board": board, "stopping": stopping, "page": live_shell().encode()}
        handler = type("LiveHandler", (_Handler,), attrs)
        try:
            self.httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise InputError(f"--live-port {port}: cannot serve on {host}:{port}: {exc}") from exc
        self.httpd.daemon_threads = True
        self._stopping = stopping
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="live", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

"""A faithful fake of a Slack incoming webhook (POST https://hooks.slack.com/services/T/B/X).

What Slack documents and this fake reproduces: a JSON body with `text` (or
`blocks`) -> 200 `ok` (text/plain); an unknown webhook path -> 404 `no_service`;
a revoked one -> 403 `invalid_token`; a body without text/blocks or not JSON ->
400 `invalid_payload` / `no_text`; rate limiting -> 429 with `Retry-After`.
Accepted messages are kept in `messages` (the decoded payloads).
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.fakes._http import FakeHTTPServer, Request, Response


class FakeSlackWebhook(FakeHTTPServer):
    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, path: str = "/services/T000/B000/XXXX"
    ):
        super().__init__(host, port)
        self.path = path
        self.revoked = False
        self.rate_limit_next = 0  # answer 429 to the next N posts
        self.messages: list[dict[str, Any]] = []

    @property
    def webhook_url(self) -> str:
        return self.url + self.path

    def handle(self, request: Request) -> Response:
        if request.path != self.path:
            return Response.text(404, "no_service")
        if request.method != "POST":
            return Response.text(405, "invalid_method")
        if self.revoked:
            return Response.text(403, "invalid_token")
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return Response.text(429, "rate_limited", {"Retry-After": "1"})
        try:
            payload = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return Response.text(400, "invalid_payload")
        if not isinstance(payload, dict):
            return Response.text(400, "invalid_payload")
        if not payload.get("text") and not payload.get("blocks"):
            return Response.text(400, "no_text")
        with self.lock:
            self.messages.append(payload)
        return Response.text(200, "ok")

"""Readiness checks for the stack's servers, and a deadline-bound wait.

Each check returns None when ready, else a short reason; `wait_for` polls it
until the deadline and raises ReadinessTimeout naming the component and the
last reason, so an operator knows what did not come up and why.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx
import redis

from bedrock.errors import ReadinessTimeout

Check = Callable[[], str | None]


def wait_for(what: str, check: Check, deadline_s: float, interval_s: float = 0.1) -> float:
    """Poll `check` until it returns None; return seconds waited."""
    start = time.monotonic()
    end = start + deadline_s
    reason: str | None = "not checked"
    while True:
        reason = check()
        if reason is None:
            return time.monotonic() - start
        if time.monotonic() >= end:
            raise ReadinessTimeout(f"{what} not ready after {deadline_s:.0f} s: {reason}")
        time.sleep(interval_s)


def http_ok(url: str, timeout_s: float = 0.5, expect_json: dict[str, str] | None = None) -> Check:
    def check() -> str | None:
        try:
            resp = httpx.get(url, timeout=timeout_s)
        except httpx.HTTPError as exc:
            return f"GET {url}: {type(exc).__name__}"
        if resp.status_code != 200:
            return f"GET {url}: HTTP {resp.status_code}"
        if expect_json:
            try:
                body = resp.json()
            except ValueError:
                return f"GET {url}: not JSON"
            for key, value in expect_json.items():
                if str(body.get(key)) != value:
                    return f"GET {url}: {key}={body.get(key)!r}"
        return None

    return check


def tcp_open(host: str, port: int, timeout_s: float = 0.3) -> Check:
    def check() -> str | None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return None
        except OSError as exc:
            return f"{host}:{port}: {exc.strerror or exc}"

    return check


def redis_client(host: str, port: int) -> redis.Redis:
    # redis-py retries with backoff by default; a probe must fail fast.
    return redis.Redis(
        host=host,
        port=port,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        # None means no retries (redis-py builds Retry(NoBackoff(), 0)); its annotation omits None
        retry=None,  # type: ignore[arg-type]
        decode_responses=True,
    )


def redis_ping(host: str, port: int) -> Check:
    def check() -> str | None:
        try:
            redis_client(host, port).ping()
        except redis.RedisError as exc:
            return f"redis {host}:{port}: {exc}"
        return None

    return check


def redis_cluster_ok(hosts: list[str], port: int, nodes: int) -> Check:
    def check() -> str | None:
        for host in hosts:
            try:
                info = redis_client(host, port).execute_command("CLUSTER INFO")
            except redis.RedisError as exc:
                return f"redis {host}:{port}: {exc}"
            if isinstance(info, dict):  # redis-py parses CLUSTER INFO into a dict
                fields = {str(k): str(v) for k, v in info.items()}
            else:
                fields = dict(line.split(":", 1) for line in str(info).split() if ":" in line)
            if fields.get("cluster_state") != "ok":
                return f"redis {host}: cluster_state={fields.get('cluster_state')}"
            if int(fields.get("cluster_known_nodes", 0)) < nodes:
                return f"redis {host}: knows {fields.get('cluster_known_nodes')} of {nodes} nodes"
        return None

    return check

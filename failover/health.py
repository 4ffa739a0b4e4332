"""Region health: concurrent `/health` probes and N-down / M-up hysteresis.

`probe()` is the I/O: one GET with a short timeout. A region is healthy only
when `/health` answers 200 with `status: healthy` and `database` and `redis`
both `connected` (the seed's rule). `RegionTracker` is pure: it turns a stream
of probe results into `unknown` / `up` / `down` with hysteresis, so a blip
shorter than `down_after` probes never marks a region down.
Limit: a probe that takes the whole timeout delays the cycle by that much.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Literal

import httpx

RegionState = Literal["unknown", "up", "down"]


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    reason: str  # "ok", "timeout", "conn_error", "http_503", "database=disconnected", ...
    latency_s: float | None
    t_wall: float = 0.0


def judge(status_code: int, body: object) -> tuple[bool, str]:
    """The seed's health rule over one `/health` answer (pure)."""
    if status_code != 200:
        return False, f"http_{status_code}"
    if not isinstance(body, dict):
        return False, "bad_body"
    for dep in ("database", "redis"):
        if body.get(dep) != "connected":
            return False, f"{dep}={body.get(dep)}"
    if body.get("status") != "healthy":
        return False, f"status={body.get('status')}"
    return True, "ok"


def probe(client: httpx.Client, url: str, timeout_s: float) -> ProbeResult:
    t_wall, t0 = time.time(), time.monotonic()
    try:
        resp = client.get(url, timeout=timeout_s)
    except httpx.TimeoutException:
        return ProbeResult(False, "timeout", None, t_wall)
    except httpx.HTTPError:
        return ProbeResult(False, "conn_error", None, t_wall)
    latency = time.monotonic() - t0
    try:
        body: object = resp.json()
    except ValueError:
        body = None
    ok, reason = judge(resp.status_code, body)
    # a 503 with a body saying which dependency is down is the more useful reason
    if not ok and resp.status_code != 200 and isinstance(body, dict):
        _, detail = judge(200, body)
        if detail != "ok":
            reason = f"{reason} {detail}"
    return ProbeResult(ok, reason, latency, t_wall)


class HealthProber:
    """Probe every region concurrently; each probe bounded by `timeout_s`."""

    def __init__(self, urls: dict[str, str], timeout_s: float) -> None:
        self.urls = urls
        self.timeout_s = timeout_s
        self._clients = {r: httpx.Client(timeout=timeout_s) for r in urls}
        # spare workers: a probe stuck past its deadline must not delay the next cycle's
        self._pool = ThreadPoolExecutor(max_workers=len(urls) * 3, thread_name_prefix="probe")

    def probe_all(self) -> dict[str, ProbeResult]:
        futures = {
            r: self._pool.submit(probe, self._clients[r], url, self.timeout_s)
            for r, url in self.urls.items()
        }
        out = {}
        for region, fut in futures.items():
            try:
                out[region] = fut.result(timeout=self.timeout_s * 2)
            except FutureTimeout:  # httpx's timeout is per operation; this bounds the total
                out[region] = ProbeResult(False, "timeout", None, time.time())
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for c in self._clients.values():
            c.close()


class RegionTracker:
    """Hysteresis over probe results; `now` is the caller's clock (seconds)."""

    def __init__(self, down_after: int, up_after: int, history: int = 60) -> None:
        self.down_after = down_after
        self.up_after = up_after
        self.state: RegionState = "unknown"
        self.consecutive_ok = 0
        self.consecutive_fail = 0
        self.up_since: float | None = None
        self.changed_at: float | None = None
        self.last: ProbeResult | None = None
        self.history: deque[ProbeResult] = deque(maxlen=history)

    def observe(self, result: ProbeResult, now: float) -> RegionState:
        self.last = result
        self.history.append(result)
        if result.ok:
            self.consecutive_ok += 1
            self.consecutive_fail = 0
            if self.state != "up" and self.consecutive_ok >= self.up_after:
                self._set("up", now)
        else:
            self.consecutive_fail += 1
            self.consecutive_ok = 0
            if self.state != "down" and self.consecutive_fail >= self.down_after:
                self._set("down", now)
        return self.state

    def _set(self, state: RegionState, now: float) -> None:
        self.state = state
        self.changed_at = now
        self.up_since = now if state == "up" else None

    def healthy_for(self, now: float) -> float:
        """Seconds this region has been continuously up (0 when not up)."""
        return now - self.up_since if self.up_since is not None else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "consecutive_ok": self.consecutive_ok,
            "consecutive_fail": self.consecutive_fail,
            "up_since": self.up_since,
            "changed_at": self.changed_at,
            "history": [
                {"t_wall": p.t_wall, "ok": p.ok, "reason": p.reason, "latency_s": p.latency_s}
                for p in self.history
            ],
        }

"""A small open-model HTTP load generator for the autoscaler testbed (asyncio, raw HTTP/1.1).

Requests are scheduled at a fixed arrival rate and their latency is measured from the
*intended* send time, so a slow server cannot hide its queue (no coordinated omission).
Requests are spread round-robin over the endpoints `endpoints()` returns at that moment (the
testbed's stand-in for the regional load balancer). Per wall second: an HdrHistogram of
latencies (us) and outcome counts. Not the project's load generator (loadtests/); just enough
to drive the testbed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

Endpoint = tuple[str, int]


@dataclass
class Second:
    hist: HdrHistogram = field(default_factory=lambda: HdrHistogram(1, 60_000_000, 3))
    ok: int = 0
    errors: int = 0


class OpenLoad:
    def __init__(
        self,
        endpoints: Callable[[], list[Endpoint]],
        *,
        path: str = "/work",
        conns_per_endpoint: int = 16,
        timeout_s: float = 2.0,
    ) -> None:
        self.endpoints = endpoints
        self.request = f"GET {path} HTTP/1.1\r\nHost: testbed\r\n\r\n".encode()
        self.conns_per_endpoint = conns_per_endpoint
        self.timeout_s = timeout_s
        self.rate = 0.0
        self.seconds: dict[int, Second] = {}
        self._lock = threading.Lock()
        self._stop = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="openload", daemon=True)
        self._pools: dict[
            Endpoint, asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        ] = {}
        self._open: dict[Endpoint, int] = {}

    # -- control (any thread) ------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def set_rate(self, rps: float) -> None:
        self.rate = max(0.0, rps)

    def stop(self) -> None:
        self._stop = True
        self._thread.join(timeout=10)

    def window(self, start_wall: float, end_wall: float) -> tuple[HdrHistogram, int, int]:
        """Merged histogram, ok and error counts for the whole seconds in [start, end)."""
        hist = HdrHistogram(1, 60_000_000, 3)
        ok = errors = 0
        with self._lock:
            for t, s in self.seconds.items():
                if start_wall <= t < end_wall:
                    hist.add(s.hist)
                    ok += s.ok
                    errors += s.errors
        return hist, ok, errors

    def p95_series(self, start_wall: float, end_wall: float) -> list[tuple[float, float | None]]:
        out: list[tuple[float, float | None]] = []
        with self._lock:
            for t in range(int(start_wall), int(end_wall)):
                s = self.seconds.get(t)
                total = s.hist.get_total_count() if s else 0
                p95 = s.hist.get_value_at_percentile(95) / 1000.0 if s and total else None
                out.append((float(t), p95))
        return out

    # -- the loop ------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._schedule())
        self._loop.close()

    async def _schedule(self) -> None:
        next_at = time.monotonic()
        rr = 0
        tasks: set[asyncio.Task[None]] = set()
        while not self._stop:
            rate = self.rate
            if rate <= 0:
                await asyncio.sleep(0.05)
                next_at = time.monotonic()
                continue
            now = time.monotonic()
            if next_at > now:
                await asyncio.sleep(next_at - now)
            eps = self.endpoints()
            intended_wall = time.time() - (time.monotonic() - next_at)
            if not eps:
                self._record(intended_wall, None)
            else:
                ep = eps[rr % len(eps)]
                rr += 1
                task = asyncio.create_task(self._one(ep, next_at, intended_wall))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            next_at += 1.0 / rate
        for task in list(tasks):
            task.cancel()

    async def _one(self, ep: Endpoint, intended_mono: float, intended_wall: float) -> None:
        try:
            await asyncio.wait_for(self._exchange(ep), self.timeout_s)
            self._record(intended_wall, time.monotonic() - intended_mono)
        except Exception:
            self._record(intended_wall, None)

    async def _exchange(self, ep: Endpoint) -> None:
        pool = self._pools.setdefault(ep, asyncio.Queue())
        if pool.empty() and self._open.get(ep, 0) < self.conns_per_endpoint:
            self._open[ep] = self._open.get(ep, 0) + 1
            try:
                conn = await asyncio.open_connection(*ep)
            except Exception:
                self._open[ep] -= 1
                raise
        else:
            conn = await pool.get()
        reader, writer = conn
        try:
            writer.write(self.request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 2"):
                raise RuntimeError(head[:20])
        except BaseException:
            writer.close()
            self._open[ep] -= 1
            raise
        pool.put_nowait(conn)

    def _record(self, intended_wall: float, latency_s: float | None) -> None:
        second = int(intended_wall)
        with self._lock:
            s = self.seconds.setdefault(second, Second())
            if latency_s is None:
                s.errors += 1
            else:
                s.ok += 1
                s.hist.record_value(max(1, int(latency_s * 1e6)))

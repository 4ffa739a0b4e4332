"""Open-model (arrival-rate) scheduling: when each request is due, and which ones are late.

Locust's users are closed-model: a slow system slows the load and hides its tail latency
(coordinated omission). Here arrivals follow a rate curve (piecewise-linear `RateSegment`s),
whatever the responses do. Arrival n (1-based) is due when the expected count reaches n
(evenly spaced, as k6's constant/ramping-arrival-rate); lane k of K takes arrivals
n = k+1, k+1+K, ... so K processes split one curve exactly.

An arrival is sent, and its latency measured from its *intended* time. It is `late` (counted,
not sent) when the dispatcher is more than `max_lag_s` behind it, `max_in_flight` requests are
already waiting, or it waited `max_lag_s` for a free sender (`abandoned`): the generator could not send it on time, and says so instead of silently
offering less load. Pure code with an injected clock; the gevent driver lives in `users`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.stages import RateSegment


class ArrivalSchedule:
    """Intended times (seconds from start) of one lane's arrivals on a rate curve."""

    def __init__(self, segments: Sequence[RateSegment], lane: int = 0, lanes: int = 1) -> None:
        if lanes < 1 or not 0 <= lane < lanes:
            raise ValueError(f"lane {lane} of {lanes}")
        self.segments = list(segments)
        self.lane = lane
        self.lanes = lanes
        self._cum = [0.0]
        for seg in self.segments:
            self._cum.append(self._cum[-1] + seg.integral(seg.t1))
        self.end_s = self.segments[-1].t1 if self.segments else 0.0

    def expected_total(self) -> float:
        """Expected arrivals over the whole curve, all lanes."""
        return self._cum[-1]

    def expected_until(self, t_s: float) -> float:
        """Expected arrivals, all lanes, from 0 to t_s."""
        total = 0.0
        for seg, before in zip(self.segments, self._cum, strict=False):
            if t_s <= seg.t0:
                break
            total = before + seg.integral(t_s)
        return total

    def lane_count(self) -> int:
        """How many arrivals this lane owns."""
        n_all = math.floor(self.expected_total() + 1e-9)
        return max(0, (n_all - (self.lane + 1)) // self.lanes + 1) if n_all > self.lane else 0

    def time_of(self, n: int) -> float | None:
        """Time at which the expected count reaches n (global index), None past the curve."""
        target = float(n)
        for seg, before in zip(self.segments, self._cum, strict=False):
            after = before + seg.integral(seg.t1)
            if target <= after + 1e-9:
                need = target - before
                span = seg.t1 - seg.t0
                a = 0.5 * (seg.rate1 - seg.rate0) / span if span > 0 else 0.0
                b = seg.rate0
                if abs(a) < 1e-12:
                    x = need / b if b > 0 else 0.0
                else:  # a x^2 + b x - need = 0, the root inside the segment
                    x = (-b + math.sqrt(max(0.0, b * b + 4 * a * need))) / (2 * a)
                return seg.t0 + min(max(x, 0.0), span)
        return None

    def lane_time(self, k: int) -> float | None:
        """Intended time of this lane's k-th arrival (0-based)."""
        return self.time_of(self.lane + 1 + k * self.lanes)


@dataclass(frozen=True)
class Arrival:
    """One due arrival: `intended` on the scheduler's clock; `send` False means late."""

    index: int
    intended: float
    send: bool


class OpenModelScheduler:
    """Hands out due arrivals against a clock; the caller sends them and reports completions."""

    def __init__(
        self,
        schedule: ArrivalSchedule,
        start: float,
        *,
        max_lag_s: float = 1.0,
        max_in_flight: int = 1000,
    ) -> None:
        self.schedule = schedule
        self.start = start
        self.max_lag_s = max_lag_s
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.sent = 0
        self.late = 0
        self._k = 0
        self._next = schedule.lane_time(0)

    @property
    def done(self) -> bool:
        return self._next is None

    def next_due(self) -> float | None:
        """Clock time of the next arrival, None when the curve is exhausted."""
        return None if self._next is None else self.start + self._next

    def due(self, now: float) -> list[Arrival]:
        """Every arrival whose intended time is <= now, each marked send or late."""
        out = []
        while self._next is not None and self.start + self._next <= now:
            intended = self.start + self._next
            ok = now - intended <= self.max_lag_s and self.in_flight < self.max_in_flight
            if ok:
                self.in_flight += 1
                self.sent += 1
            else:
                self.late += 1
            out.append(Arrival(self._k, intended, ok))
            self._k += 1
            self._next = self.schedule.lane_time(self._k)
        return out

    def completed(self) -> None:
        """A sent request finished (any outcome)."""
        self.in_flight -= 1

    def abandoned(self) -> None:
        """An arrival handed out to send waited past max_lag_s before a sender was free: late."""
        self.in_flight -= 1
        self.sent -= 1
        self.late += 1

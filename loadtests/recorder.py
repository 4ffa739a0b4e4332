"""Per-second, per-endpoint latency histograms and outcome counts -> `requests/<writer-id>.jsonl`.

The format is docs/run-folder.md's: one line per (second, endpoint) with an encoded
`HdrHistogram(1, 60_000_000, 3)` of latencies in microseconds and the outcome counts.
`t` is the floor of the request's *intended* send time, so a slow answer lands in the second
it was due. Memory is bounded: `flush()` writes and forgets every second older than
`settle_s`; an answer that arrives later still (a long timeout) opens a fresh bucket for its
old second, written at the next flush. Readers merge every line with the same
(t, endpoint), within a file and across files (`loadtests.histograms`), so that is exact.

Not thread-safe: one recorder per process, driven from one event loop (gevent or a thread).
"""

from __future__ import annotations

import math
import os
import socket
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

from bedrock.histograms import encode, latency_us, new_histogram
from bedrock.runfolder import requests
from bedrock.runfolder.requests import RequestsWriter

OUTCOME_OK = "ok"
OUTCOME_TIMEOUT = "timeout"
OUTCOME_CONN_ERROR = "conn_error"
OUTCOME_LATE = "late"


def outcome_for_status(status: int) -> str:
    """`ok` for 1xx-3xx, `http_<code>` otherwise."""
    return OUTCOME_OK if 100 <= status < 400 else f"http_{status}"


def default_writer_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class _Bucket:
    hist: HdrHistogram = field(default_factory=new_histogram)
    outcomes: dict[str, int] = field(default_factory=dict)


class RequestRecorder:
    """Collects samples per (second, endpoint) and appends them to one JSONL file."""

    def __init__(self, run_dir: str | os.PathLike[str], writer_id: str | None = None) -> None:
        self.writer = RequestsWriter(run_dir, writer_id or default_writer_id())
        self.path = self.writer.path
        self._buckets: dict[tuple[int, str], _Bucket] = {}
        self.totals: dict[str, int] = {}
        self.lines_written = 0

    def record(
        self, endpoint: str, intended_wall: float, latency_s: float | None, outcome: str
    ) -> None:
        """One request: its latency (None when it got no latency, e.g. late) and its outcome."""
        key = (math.floor(intended_wall), endpoint)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket()
        if latency_s is not None:
            bucket.hist.record_value(latency_us(latency_s))
        bucket.outcomes[outcome] = bucket.outcomes.get(outcome, 0) + 1
        self.totals[outcome] = self.totals.get(outcome, 0) + 1

    def pending_seconds(self) -> int:
        return len({t for t, _ in self._buckets})

    def flush(self, now_wall: float | None = None, settle_s: float = 2.0) -> int:
        """Write and drop buckets older than `settle_s` (all when now_wall is None); lines written."""
        if now_wall is None:
            keys = sorted(self._buckets)
        else:
            limit = math.floor(now_wall - settle_s)
            keys = sorted(k for k in self._buckets if k[0] < limit)
        if not keys:
            return 0
        lines = []
        for key in keys:
            bucket = self._buckets.pop(key)
            lines.append(requests.line(key[0], key[1], encode(bucket.hist), bucket.outcomes))
        self.writer.write(lines)
        self.lines_written += len(lines)
        return len(lines)

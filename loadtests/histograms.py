"""Read and merge `requests/*.jsonl` (docs/run-folder.md): percentiles and counts from histograms.

Pure functions over the recorded files, read by the run folder's one reader of requests/
(`bedrock.runfolder.requests`) and decoded by the one codec (`bedrock.histograms`), whose
percentiles are also the report's. Lines with the same (t, endpoint) -- from several
processes, workers or late flushes of one process -- are merged with `HdrHistogram.add`,
which is exact: merging per-process histograms gives the histogram of all samples. Bad
lines raise InputError naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hdrh.histogram import HdrHistogram

from bedrock.errors import InputError
from bedrock.histograms import counts_of, decode, new_histogram, percentiles_ms
from bedrock.runfolder import requests
from loadtests.recorder import OUTCOME_LATE, OUTCOME_OK


@dataclass
class Cell:
    """Merged histogram (latency in us) and outcome counts of one (t, endpoint) or a window."""

    hist: HdrHistogram = field(default_factory=new_histogram)
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, hist: HdrHistogram, outcomes: dict[str, int]) -> None:
        self.hist.add(hist)
        for k, v in outcomes.items():
            self.outcomes[k] = self.outcomes.get(k, 0) + int(v)

    @property
    def sent(self) -> int:
        """Requests actually sent (every outcome except `late`)."""
        return sum(v for k, v in self.outcomes.items() if k != OUTCOME_LATE)

    @property
    def ok(self) -> int:
        return self.outcomes.get(OUTCOME_OK, 0)

    def percentile_ms(self, q: float) -> float | None:
        """q-th percentile (0..100) in milliseconds, None with no samples."""
        if self.hist.get_total_count() == 0:
            return None
        return percentiles_ms(counts_of(self.hist), (q,))[0]


def read_lines(path: Path) -> Iterable[tuple[int, str, HdrHistogram, dict[str, int]]]:
    """Decode one requests file; raises InputError on a malformed line."""
    for line in requests.read_request_file(path):
        try:
            hist = decode(line.hist_b64)
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(f"{line.where}: bad requests line ({exc})") from exc
        yield line.t, line.endpoint, hist, line.outcomes


def load_cells(run_dir: str | Path) -> dict[tuple[int, str], Cell]:
    """Every (t, endpoint) of a run folder, merged across files."""
    cells: dict[tuple[int, str], Cell] = {}
    for path in requests.files_of(run_dir):
        for t, endpoint, hist, outcomes in read_lines(path):
            cells.setdefault((t, endpoint), Cell()).add(hist, outcomes)
    return cells


def merge(
    cells: dict[tuple[int, str], Cell],
    *,
    endpoint: str | None = None,
    t_from: int | None = None,
    t_to: int | None = None,
) -> Cell:
    """One cell over a window [t_from, t_to) and one endpoint (or all)."""
    out = Cell()
    for (t, ep), cell in cells.items():
        if endpoint is not None and ep != endpoint:
            continue
        if (t_from is not None and t < t_from) or (t_to is not None and t >= t_to):
            continue
        out.add(cell.hist, cell.outcomes)
    return out


def summary(run_dir: str | Path) -> dict[str, dict[str, object]]:
    """Per endpoint and overall: counts, outcomes, p50/p95/p99 (ms), seconds covered."""
    cells = load_cells(run_dir)
    endpoints = sorted({ep for _, ep in cells})
    out: dict[str, dict[str, object]] = {}
    for ep in [*endpoints, None]:
        cell = merge(cells, endpoint=ep)
        seconds = sorted({t for t, e in cells if ep is None or e == ep})
        out[ep or "ALL"] = {
            "sent": cell.sent,
            "outcomes": dict(sorted(cell.outcomes.items())),
            "p50_ms": cell.percentile_ms(50),
            "p95_ms": cell.percentile_ms(95),
            "p99_ms": cell.percentile_ms(99),
            "seconds": len(seconds),
            "first_t": seconds[0] if seconds else None,
            "last_t": seconds[-1] if seconds else None,
        }
    return out

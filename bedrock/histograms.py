"""The histogram codec (one place): layout constants, encode/decode, percentiles, with numpy.

The run folder stores per-second, per-endpoint histograms encoded by `hdrh`
(1 us .. 60 s, 3 significant digits). Decoding goes through `hdrh`; merging and
percentiles work on numpy count arrays, which is ~100x faster than hdrh's Python
loops. Percentiles follow hdrh's `get_value_at_percentile` exactly (the highest
value equivalent to the bucket holding the target rank). Limits: histograms with
another layout are re-recorded into the canonical one (correct but slower).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from hdrh.codec import HdrHistogramEncoder
from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 60_000_000
SIG_FIGS = 3


def new_histogram() -> HdrHistogram:
    """An empty histogram in the run folder's layout (docs/run-folder.md, requests/)."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIG_FIGS)


def latency_us(latency_s: float) -> int:
    """Seconds to whole microseconds, clamped to the histogram's range."""
    return min(HIGHEST_US, max(LOWEST_US, round(latency_s * 1e6)))


def encode(hist: HdrHistogram) -> str:
    """The base64 text of one histogram (the `hist` key of a requests line)."""
    encoded: bytes = hist.encode()
    return encoded.decode("ascii")


def decode(encoded: str) -> HdrHistogram:
    """One histogram object from its base64 text (ValueError/TypeError when it is not one)."""
    return HdrHistogram.decode(encoded.encode("ascii"))


def counts_of(hist: HdrHistogram) -> np.ndarray:
    """A histogram object's counts array (canonical layout; a copy)."""
    if (hist.lowest_trackable_value, hist.highest_trackable_value, hist.significant_figures) != (
        LOWEST_US,
        HIGHEST_US,
        SIG_FIGS,
    ):
        canonical = new_histogram()
        canonical.add(hist)
        hist = canonical
    return np.frombuffer(hist.counts, dtype=np.int64)[: counts_len()].copy()


@lru_cache(maxsize=1)
def bucket_values_us() -> np.ndarray:
    """For each counts index, the highest value (us) equivalent to it (hdrh's convention)."""
    h = new_histogram()
    return np.array(
        [h.get_highest_equivalent_value(h.get_value_from_index(i)) for i in range(h.counts_len)],
        dtype=np.float64,
    )


@lru_cache(maxsize=1)
def bucket_midpoints_us() -> np.ndarray:
    """Midpoint of each bucket's value range (for means)."""
    h = new_histogram()
    return np.array(
        [h._hdr_median_equiv_value(h.get_value_from_index(i)) for i in range(h.counts_len)],
        dtype=np.float64,
    )


def counts_len() -> int:
    return len(bucket_values_us())


def decode_counts(encoded: str) -> np.ndarray:
    """Decode one base64 histogram into an int64 counts array (canonical layout)."""
    return decode_span(encoded)[0]


def decode_span(encoded: str) -> tuple[np.ndarray, int, int]:
    """Counts array plus the first and last non-zero index (-1, -1 when empty).

    Merging only the non-zero span is ~8x cheaper than whole arrays. Fast path: decode the wire payload straight into a counts buffer and view it
    with numpy (no HdrHistogram object, no copy). Other layouts go through hdrh.
    """
    payload = HdrHistogramEncoder.decode(encoded)
    header = payload.payload
    if (
        header.lowest_trackable_value,
        header.highest_trackable_value,
        header.significant_figures,
    ) == (
        LOWEST_US,
        HIGHEST_US,
        SIG_FIGS,
    ):
        found = payload.init_counts(counts_len())
        counts = np.frombuffer(payload.get_counts(), dtype=np.int64)
        if not found["total"]:
            return counts, -1, -1
        return counts, int(found["min_nonzero_index"]), int(found["max_nonzero_index"])
    canonical = new_histogram()
    canonical.add(HdrHistogram.decode(encoded))
    counts = np.frombuffer(canonical.counts, dtype=np.int64).copy()
    nz = np.flatnonzero(counts)
    return (counts, int(nz[0]), int(nz[-1])) if len(nz) else (counts, -1, -1)


def percentiles_ms(
    counts: np.ndarray, qs: tuple[float, ...], offset: int = 0
) -> list[float | None]:
    """Values (ms) at percentiles `qs` (0..100) of a counts array; None when empty.

    `counts` may be a slice of the full layout starting at index `offset`.
    """
    total = int(counts.sum())
    if total == 0:
        return [None for _ in qs]
    cum = np.cumsum(counts)
    targets = np.array([max(int(q * total / 100 + 0.5), 1) for q in qs], dtype=np.int64)
    idx = np.searchsorted(cum, targets, side="left") + offset
    values = bucket_values_us()[idx] / 1000.0
    return [float(v) for v in values]


def max_ms(counts: np.ndarray) -> float | None:
    nz = np.flatnonzero(counts)
    return float(bucket_values_us()[nz[-1]] / 1000.0) if len(nz) else None


def mean_ms(counts: np.ndarray) -> float | None:
    total = counts.sum()
    if total == 0:
        return None
    return float((counts * bucket_midpoints_us()).sum() / total / 1000.0)


def stat_ms(counts: np.ndarray, stat: str, percentile: float | None) -> float | None:
    """A threshold statistic (pNN, max, avg, med) over a counts array, in ms."""
    if percentile is not None:
        return percentiles_ms(counts, (percentile,))[0]
    if stat == "max":
        return max_ms(counts)
    if stat == "avg":
        return mean_ms(counts)
    if stat == "med":
        return percentiles_ms(counts, (50.0,))[0]
    raise ValueError(f"unknown latency statistic {stat!r}")

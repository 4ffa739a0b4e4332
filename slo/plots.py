"""Report plots as PNG bytes (matplotlib, Agg backend, no pyplot global state).

Each function takes measured data and returns PNG bytes, or None when there is
nothing to draw (the report then says "no data" instead of an empty chart).
Times are seconds since the run's start.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from slo.results import FaultInfo, Series  # noqa: E402
from slo.runfolder import LedgerEntry, Readback  # noqa: E402

_SIZE = (9.0, 3.2)
_DPI = 90


# Fixed margins that fit these plots' labels, and light PNG compression: tight_layout (an
# extra draw) and zlib level 6 made four plots cost ~1.6 s a run, ~0.3 s this way (a
# nightly renders 14 runs between its runs). The images are ~10 % larger.
_MARGINS = {"left": 0.08, "right": 0.98, "bottom": 0.16, "top": 0.9}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.subplots_adjust(**_MARGINS)
    fig.savefig(buf, format="png", dpi=_DPI, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _shade(ax, fault: FaultInfo | None, t0: float) -> None:  # type: ignore[no-untyped-def]
    if fault is None:
        return
    end = fault.rolled_back_wall if fault.rolled_back_wall is not None else ax.get_xlim()[1] + t0
    ax.axvspan(fault.t_wall - t0, end - t0, color="tab:red", alpha=0.12, label="fault window")


def latency_over_time(
    series: Series, fault: FaultInfo | None, t0: float, p95_target_ms: float | None
) -> bytes | None:
    if not series.t:
        return None
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    x = [t - t0 for t in series.t]
    for name, values, style in (
        ("p50", series.p50_ms, ":"),
        ("p95", series.p95_ms, "-"),
        ("p99", series.p99_ms, "--"),
    ):
        ax.plot(x, [v if v is not None else float("nan") for v in values], style, lw=1, label=name)
    if p95_target_ms is not None:
        ax.axhline(
            p95_target_ms,
            color="black",
            lw=0.8,
            alpha=0.6,
            label=f"p95 target {p95_target_ms:g} ms",
        )
    _shade(ax, fault, t0)
    ax.set_yscale("log")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Latency percentiles per second (all endpoints)")
    ax.legend(loc="upper left", fontsize=7, ncol=5)
    return _png(fig)


def throughput_over_time(series: Series, fault: FaultInfo | None, t0: float) -> bytes | None:
    if not series.t:
        return None
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    x = [t - t0 for t in series.t]
    ax.plot(x, series.ok, lw=1, color="tab:green", label="ok req/s")
    ax.plot(x, series.errors, lw=1, color="tab:red", label="errors/s")
    _shade(ax, fault, t0)
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("requests / s")
    ax.set_title("Throughput and errors")
    ax.legend(loc="upper left", fontsize=7, ncol=3)
    return _png(fig)


def replicas_over_time(
    points: dict[str, list[tuple[float, int]]],
    fault: FaultInfo | None,
    t0: float,
    t_end: float,
    source: str = "from replica.ready / replica.stopped events",
) -> bytes | None:
    if not points:
        return None
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    for region, pts in sorted(points.items()):
        xs = [t - t0 for t, _ in pts] + [t_end - t0]
        ys = [n for _, n in pts] + [pts[-1][1]]
        ax.step(xs, ys, where="post", label=region)
    _shade(ax, fault, t0)
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("replicas")
    ax.set_title(f"Replicas per region ({source})")
    ax.legend(loc="upper left", fontsize=7)
    return _png(fig)


def writes_over_time(
    ledger: Sequence[LedgerEntry], readback: Readback | None, lost_seqs: set[int], t0: float
) -> bytes | None:
    if not ledger:
        return None
    groups: dict[str, list[float]] = {
        "acknowledged, kept": [],
        "acknowledged, LOST": [],
        "indeterminate": [],
        "failed": [],
    }
    for e in ledger:
        t = e.t_send - t0
        if e.outcome == "acknowledged":
            groups["acknowledged, LOST" if e.seq in lost_seqs else "acknowledged, kept"].append(t)
        else:
            groups[e.outcome].append(t)
    lo = min(e.t_send for e in ledger) - t0
    hi = max(e.t_send for e in ledger) - t0
    bins = max(10, min(300, int(hi - lo) + 1))
    edges = np.linspace(lo, hi + 1e-9, bins + 1)
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    labels = [k for k, v in groups.items() if v]
    colors = {
        "acknowledged, kept": "tab:green",
        "acknowledged, LOST": "tab:red",
        "indeterminate": "tab:gray",
        "failed": "tab:orange",
    }
    # one polygon per class (stackplot), not one patch per bin: fast for long runs
    heights = [np.histogram(groups[k], bins=edges)[0] for k in labels]
    ax.stackplot(
        edges[:-1], *heights, labels=labels, colors=[colors[k] for k in labels], step="post"
    )
    ax.set_xlabel("seconds since start (send time)")
    ax.set_ylabel("writes per bin")
    title = "Ledger writes: acknowledged vs lost"
    if readback is None:
        title += " (no read-back: losses unknown)"
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=7, ncol=4)
    return _png(fig)

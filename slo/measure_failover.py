"""Failover time, RTO, the failover timeline and client-visible outage, from probes and events.

Definitions (DESIGN.md): failover time runs from the fault's injection to the
first moment after which the entry point serves successfully from a surviving
region for a sustained window; RTO to the first moment after which reads AND
writes all succeed (any region) for that window. "Moment" = the intended send
time of the first good probe of the window, so the resolution is the probe
interval (reported). A silence longer than `max_gap_s` breaks a window: no
evidence is not success. Pure functions; times are t_mono (seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slo.results import FaultInfo, PhaseSpan, RecoveryMeasure
from slo.runfolder import Event, Probe

# failover timeline: (name, start event kinds (None = the fault), end event kinds)
_TIMELINE: tuple[tuple[str, tuple[str, ...] | None, tuple[str, ...]], ...] = (
    ("detection", None, ("failover.detected",)),
    (
        "traffic switch",
        ("failover.detected",),
        ("failover.traffic_switched", "failover.lb_updated"),
    ),
    ("database promotion", None, ("db.leader_changed",)),
    ("redis failover", None, ("redis.master_changed",)),
    (
        "scale-up",
        ("failover.traffic_switched", "failover.lb_updated"),
        ("failover.ready", "failover.scaled"),
    ),
    ("controller done", None, ("failover.completed",)),
)


def find_fault(events: Sequence[Event], regions: Sequence[str]) -> FaultInfo | None:
    """The first `fault.injected` event, its rollback and the regions that survive it."""
    faults = [e for e in events if e.kind == "fault.injected"]
    if not faults:
        return None
    first = faults[0]
    target = first.detail.get("target")
    target = target if isinstance(target, str) else None
    rollback = next(
        (e for e in events if e.kind == "fault.rolled_back" and e.t_mono >= first.t_mono), None
    )
    surviving: list[str] | None = None
    if target and target.startswith("region:"):
        lost = target.split(":", 1)[1]
        surviving = [r for r in regions if r != lost]
    return FaultInfo(
        target=target,
        t_wall=first.t_wall,
        t_mono=first.t_mono,
        rolled_back_wall=rollback.t_wall if rollback else None,
        rolled_back_mono=rollback.t_mono if rollback else None,
        surviving_regions=surviving,
        faults_injected=len(faults),
    )


def sustained_recovery(
    probes: Sequence[Probe],
    start_mono: float,
    kinds: Sequence[str],
    good: Callable[[Probe], bool],
    window_s: float,
    max_gap_s: float,
) -> RecoveryMeasure:
    """Seconds from `start_mono` to the first good probe opening a sustained all-good window.

    Every kind in `kinds` must be probed throughout the window (no silence longer
    than `max_gap_s`), and every probe of those kinds in it must be good.
    """
    kinds = list(kinds)
    after = [p for p in probes if p.kind in kinds and p.t_mono >= start_mono]
    result = RecoveryMeasure(probe_kinds=kinds, sustained_window_s=window_s)
    if not after:
        result.note = f"no {'/'.join(kinds)} probes after the fault"
        return result
    bad = [p for p in after if not good(p)]
    result.probes_after_fault = len(after)
    result.failed_probes_after_fault = len(bad)
    if bad:
        result.first_failure_s = bad[0].t_mono - start_mono
        result.last_failure_s = bad[-1].t_mono - start_mono
    result.disruption_observed = bool(bad)

    last_seen: dict[str, float] = {k: start_mono for k in kinds}
    run_start: Probe | None = None
    run_kinds_seen: set[str] = set()
    prev_bad_t: float | None = None
    for p in after:
        own_gap = p.t_mono - last_seen[p.kind]
        last_seen[p.kind] = p.t_mono
        if not good(p):
            run_start, prev_bad_t = None, p.t_mono
            continue
        if own_gap > max_gap_s:
            run_start = None  # the prober was silent: the window restarts here
        if any(p.t_mono - last_seen[k] > max_gap_s for k in kinds):
            run_start = None  # another kind is silent: cannot claim full service
            continue
        if run_start is None:
            run_start, run_kinds_seen = p, set()
        run_kinds_seen.add(p.kind)
        if p.t_mono - run_start.t_mono >= window_s - 1e-9 and run_kinds_seen >= set(kinds):
            result.value_s = max(0.0, run_start.t_mono - start_mono)
            result.recovered_at_wall = run_start.t_wall
            if prev_bad_t is not None and prev_bad_t < run_start.t_mono:
                result.resolution_s = run_start.t_mono - prev_bad_t
            return result
    # Any window opening before (last probe - window) would have been found.
    result.lower_bound_s = max(0.0, after[-1].t_mono - window_s - start_mono)
    missing = [k for k in kinds if not any(p.kind == k for p in after)]
    result.note = (
        f"no {'/'.join(missing)} probes after the fault"
        if missing
        else f"no sustained {window_s:g} s window of good {'/'.join(kinds)} probes before the probes end"
    )
    return result


def failover_good(fault: FaultInfo) -> Callable[[Probe], bool]:
    """Good for failover: ok and, when the fault took a region, answered by another region.

    "Another" rather than "one of run.json's regions", so a run.json without
    `regions` still measures; a probe without a region header never counts.
    """
    target = fault.target or ""
    if not target.startswith("region:"):
        return lambda p: p.ok
    lost = target.split(":", 1)[1]
    return lambda p: p.ok and p.region is not None and p.region != lost


def failover_timeline(
    events: Sequence[Event], fault: FaultInfo, measured_end_s: float | None
) -> list[PhaseSpan]:
    """The failover steps the events allow, as seconds after the fault."""
    after = [e for e in events if e.t_mono >= fault.t_mono]

    def first(kinds: tuple[str, ...]) -> Event | None:
        return next((e for e in after if e.kind in kinds), None)

    spans: list[PhaseSpan] = []
    for name, start_kinds, end_kinds in _TIMELINE:
        end = first(end_kinds)
        if end is None:
            continue
        start_t = fault.t_mono
        if start_kinds is not None:
            start = first(start_kinds)
            if start is None:
                continue
            start_t = start.t_mono
        spans.append(
            PhaseSpan(
                name=name,
                start_s=start_t - fault.t_mono,
                end_s=end.t_mono - fault.t_mono,
                source=f"{'fault.injected' if start_kinds is None else start_kinds[0]} -> {end.kind}",
            )
        )
    if measured_end_s is not None:
        spans.append(
            PhaseSpan(
                name="client-visible failover", start_s=0.0, end_s=measured_end_s, source="probes"
            )
        )
    return spans


def outage_seconds(
    probes: Sequence[Probe], kinds: Sequence[str], start: float, end: float
) -> float:
    """Time within [start, end] during which the latest probe of some kind had failed.

    Each probe stands for the interval up to the next probe of its kind; the union
    over kinds is taken, so a read outage overlapping a write outage counts once.
    """
    intervals: list[tuple[float, float]] = []
    for kind in kinds:
        seq = [p for p in probes if p.kind == kind and start <= p.t_mono <= end]
        for p, nxt in zip(seq, seq[1:] + [None], strict=True):
            if not p.ok:
                stop = nxt.t_mono if nxt is not None else p.t_mono
                intervals.append((p.t_mono, stop))
    intervals.sort()
    total, cur_s, cur_e = 0.0, None, None
    for s, e in intervals:
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None and cur_s is not None:
        total += cur_e - cur_s
    return total

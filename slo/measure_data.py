"""Lost writes and RPO from the write ledger and the read-back (Jepsen set-checker style).

lost = acknowledged and absent after recovery. Writes without an answer
(indeterminate) may or may not be present and are counted apart, never as lost.
Each lost write is classified by its ack time: before the fault (the
asynchronous-replication window) or after it (a later promotion, failback or
split brain discarded writes a leader had confirmed); with no fault recorded it
is unclassified. A *loss* is a run of consecutive lost writes in ack order (no
kept write between them). RPO (DESIGN.md) = the span of time a loss covers, from
its earliest lost ack to its latest, and at least to the fault when it started
before it; never less than the ledger's resolution (the median gap between acks),
so it is 0 only when nothing was lost; the run's RPO is its largest loss.
`leadership` (database leader changes from events) names who led while a loss
was acknowledged and which change discarded it. Pure functions; wall-clock
times (the ledger carries t_ack in wall seconds).
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from slo.results import DataLoss, Loss
from slo.runfolder import Event, LedgerEntry, Readback

LOST_SAMPLE = 50
NO_LEADER = ("", "none", "None", "null")


class PresentSet:
    """Membership in a sorted list of inclusive ranges."""

    def __init__(self, ranges: Sequence[tuple[int, int]]) -> None:
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(ranges):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        self._starts = [lo for lo, _ in merged]
        self._ranges = merged

    def __contains__(self, seq: int) -> bool:
        i = bisect.bisect_right(self._starts, seq) - 1
        return i >= 0 and self._ranges[i][0] <= seq <= self._ranges[i][1]


@dataclass(frozen=True)
class LeaderChange:
    t_wall: float
    old: str | None
    new: str | None


def leader_changes(events: Sequence[Event]) -> list[LeaderChange]:
    """`db.leader_changed` events (old -> new), in time order; "none" means no leader."""

    def name(v: object) -> str | None:
        return None if v is None or str(v) in NO_LEADER else str(v)

    return [
        LeaderChange(e.t_wall, name(e.detail.get("old")), name(e.detail.get("new")))
        for e in events
        if e.kind == "db.leader_changed"
    ]


def leader_at(changes: Sequence[LeaderChange], t_wall: float) -> str | None:
    """The leader at `t_wall` by the recorded changes (the first change's `old` before it)."""
    current = changes[0].old if changes else None
    for c in changes:
        if c.t_wall > t_wall:
            break
        current = c.new
    return current


def leaders_between(changes: Sequence[LeaderChange], start: float, end: float) -> list[str]:
    """Leaders that held the database at some time in [start, end], in order."""
    seen = [leader_at(changes, start)] + [c.new for c in changes if start < c.t_wall <= end]
    out: list[str] = []
    for name in seen:
        if name is not None and name not in out:
            out.append(name)
    return out


def discarded_by(
    changes: Sequence[LeaderChange], after: float, leaders: Sequence[str], fault_wall: float | None
) -> str | None:
    """The first leader change after `after` away from a leader that acked the loss."""
    for c in changes:
        if c.t_wall >= after and c.old in leaders:
            who = c.new or "no leader"
            when = f" at +{c.t_wall - fault_wall:.1f} s" if fault_wall is not None else ""
            return f"{c.old} lost the lead to {who}{when}"
    return None


def _resolution(acked: Sequence[LedgerEntry]) -> float | None:
    gaps = [
        b.t_ack - a.t_ack
        for a, b in zip(acked, acked[1:], strict=False)
        if b.t_ack is not None and a.t_ack is not None and b.t_ack > a.t_ack
    ]
    return statistics.median(gaps) if gaps else None


def _losses(acked: Sequence[LedgerEntry], present: PresentSet) -> list[list[LedgerEntry]]:
    runs: list[list[LedgerEntry]] = []
    current: list[LedgerEntry] = []
    for e in acked:
        if e.seq in present:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(e)
    if current:
        runs.append(current)
    return runs


def _loss(
    run: Sequence[LedgerEntry],
    fault_wall: float | None,
    resolution: float | None,
    changes: Sequence[LeaderChange],
) -> Loss:
    first, last = run[0], run[-1]
    t0, t1 = float(first.t_ack), float(last.t_ack)  # type: ignore[arg-type]
    end = max(t1, fault_wall) if fault_wall is not None and t0 < fault_wall else t1
    floor = resolution if resolution is not None else t1 - first.t_send
    loss = Loss(
        count=len(run),
        first_seq=first.seq,
        last_seq=last.seq,
        first_ack_wall=t0,
        last_ack_wall=t1,
        span_s=max(end - t0, floor, 1e-6),
    )
    if fault_wall is not None:
        loss.before_fault = sum(1 for e in run if e.t_ack is not None and e.t_ack < fault_wall)
        loss.after_fault = len(run) - loss.before_fault
        loss.first_ack_after_fault_s = t0 - fault_wall
        loss.last_ack_after_fault_s = t1 - fault_wall
    loss.leaders = leaders_between(changes, t0, t1)
    loss.discarded_by = discarded_by(changes, t1, loss.leaders, fault_wall)
    return loss


def measure_data_loss(
    ledger: Sequence[LedgerEntry],
    readback: Readback,
    fault_wall: float | None,
    leadership: Sequence[LeaderChange] = (),
) -> DataLoss:
    """Count lost and indeterminate writes of the read-back client; classify losses; RPO."""
    client = readback.client or None
    entries = [e for e in ledger if client is None or e.client == client]
    result = DataLoss(client=client, fault_wall=fault_wall, writes=len(entries))
    if len(entries) != len(ledger):
        result.note = (
            f"{len(ledger) - len(entries)} ledger lines of other clients not read back, ignored"
        )
    present = PresentSet(readback.present_ranges)

    acked = sorted(
        (e for e in entries if e.outcome == "acknowledged"), key=lambda e: (e.t_ack, e.seq)
    )
    result.acknowledged = len(acked)
    result.ack_resolution_s = _resolution(acked)
    lost = [e for e in acked if e.seq not in present]
    result.lost = len(lost)
    result.lost_seqs_sample = sorted(e.seq for e in lost)[:LOST_SAMPLE]
    indeterminate = [e for e in entries if e.outcome == "indeterminate"]
    result.indeterminate = len(indeterminate)
    result.indeterminate_present = sum(1 for e in indeterminate if e.seq in present)
    failed = [e for e in entries if e.outcome == "failed"]
    result.failed = len(failed)
    result.failed_but_present = sum(1 for e in failed if e.seq in present)

    if not lost:
        result.rpo_s = 0.0
        return result
    result.losses = [
        _loss(run, fault_wall, result.ack_resolution_s, leadership)
        for run in _losses(acked, present)
    ]
    if fault_wall is None:
        result.lost_unclassified = len(lost)
        result.note = (result.note + "; " if result.note else "") + (
            "acknowledged writes lost without a recorded fault: none can be classified"
        )
    else:
        result.lost_before_fault = sum(loss.before_fault for loss in result.losses)
        result.lost_after_fault = sum(loss.after_fault for loss in result.losses)
        offsets = [float(e.t_ack) - fault_wall for e in lost]  # type: ignore[arg-type]
        before = [o for o in offsets if o < 0]
        after = [o for o in offsets if o >= 0]
        result.lost_before_fault_ack_s = [min(before), max(before)] if before else None
        result.lost_after_fault_ack_s = [min(after), max(after)] if after else None
    result.rpo_s = max(loss.span_s for loss in result.losses)
    earliest = lost[0]
    result.earliest_lost_seq = earliest.seq
    result.earliest_lost_ack_wall = earliest.t_ack
    kept_before = [e for e in acked if e.t_ack < earliest.t_ack and e.seq in present]  # type: ignore[operator]
    if kept_before:
        result.last_kept_seq = kept_before[-1].seq
        result.last_kept_ack_wall = kept_before[-1].t_ack
    return result

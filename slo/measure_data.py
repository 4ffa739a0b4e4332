"""Lost writes and RPO from the write ledger and the read-back (Jepsen set-checker style).

lost = acknowledged and absent after recovery. Writes without an answer
(indeterminate) may or may not be present and are counted apart, never as lost.
RPO = fault time minus the ack time of the last write kept before the earliest
lost one (0 when nothing is lost). "Earliest" and "before" follow ack time.
Pure function; wall-clock times (the ledger carries t_ack in wall seconds).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from slo.results import DataLoss
from slo.runfolder import LedgerEntry, Readback

LOST_SAMPLE = 50


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


def measure_data_loss(
    ledger: Sequence[LedgerEntry], readback: Readback, fault_wall: float | None
) -> DataLoss:
    """Count lost and indeterminate writes of the read-back client; compute RPO."""
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
    earliest = lost[0]
    result.earliest_lost_seq = earliest.seq
    result.earliest_lost_ack_wall = earliest.t_ack
    kept_before = [
        e
        for e in acked
        if e.t_ack is not None
        and earliest.t_ack is not None
        and e.t_ack < earliest.t_ack
        and e.seq in present
    ]
    if fault_wall is None:
        result.note = (result.note + "; " if result.note else "") + (
            "acknowledged writes lost without a recorded fault: RPO has no reference time"
        )
        return result
    if kept_before:
        last = kept_before[-1]
        result.last_kept_seq = last.seq
        result.last_kept_ack_wall = last.t_ack
        assert last.t_ack is not None
        result.rpo_s = max(0.0, fault_wall - last.t_ack)
    else:
        # Lost from the very first write: the loss reaches back to the ledger's start.
        first_send = min(e.t_send for e in entries)
        result.rpo_s = max(0.0, fault_wall - first_send)
        result.note = (result.note + "; " if result.note else "") + (
            "no write kept before the earliest lost one: RPO measured from the first write sent"
        )
    return result

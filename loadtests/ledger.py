"""The write ledger's outcome rules: what one sequence-numbered write's answer means for RPO.

Every write is `POST /ledger {"client", "seq"}` through the edge; its outcome goes to
`ledger.jsonl` (docs/run-folder.md):
- `acknowledged`: a 2xx answer; the write must survive (lost = acknowledged and missing);
- `failed`: an answer saying the write did not happen (4xx, and 5xx from the API or a
  proxy that did not forward it, e.g. HAProxy's 503 "no server available");
- `indeterminate`: no answer (timeout, connection reset) or a proxy's 502/504, which say
  the upstream went away or went quiet *after* the request may have reached the database.
Treating 502/504 as indeterminate rather than failed is our reading (Jepsen's): a 504 write
can still commit. Lost-write counting only uses `acknowledged`, so the choice never hides a
loss; it keeps "failed but present" from looking like a bug.
"""

from __future__ import annotations

from typing import Any

ACKNOWLEDGED = "acknowledged"
FAILED = "failed"
INDETERMINATE = "indeterminate"
PROXY_INDETERMINATE = frozenset({502, 504})


def ledger_outcome(status: int | None) -> str:
    """Outcome of one write from its HTTP status (None or 0: no answer)."""
    if not status:
        return INDETERMINATE
    if 200 <= status < 300:
        return ACKNOWLEDGED
    if status in PROXY_INDETERMINATE:
        return INDETERMINATE
    return FAILED


def ledger_line(
    client: str, seq: int, t_send: float, t_answer: float | None, status: int | None
) -> dict[str, Any]:
    """The `ledger.jsonl` line for one write; `t_ack` only when acknowledged."""
    outcome = ledger_outcome(status)
    return {
        "seq": seq,
        "client": client,
        "t_send": t_send,
        "t_ack": t_answer if outcome == ACKNOWLEDGED else None,
        "outcome": outcome,
        "status": status or None,
    }

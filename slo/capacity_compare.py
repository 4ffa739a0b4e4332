"""`gameday compare` on two capacity run folders (capacity.json, gameday.capacity/1 to /3).

Figures: the knee per replica count (throughput, worse down), replicas needed for the target
(worse up, no tolerance), the USL sigma and kappa (shown, not flagged: the fit's own warnings
say how far to trust them). When both runs give the knee's interval (schema 3: the trials'
spread and the ladder's resolution), a knee regresses only when the new interval lies wholly
below the base one; overlapping intervals are the same capacity as far as the runs can tell.
Without intervals (older runs) the 10 % throughput tolerance applies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bedrock.errors import InputError
from bedrock.runfolder import reports
from slo.capacity_knees import intervals_overlap
from slo.compare import DEFAULT_TOLERANCES, Row


def is_capacity_run(run_dir: Path) -> bool:
    return (run_dir / "capacity.json").is_file() and not reports.has_results(run_dir)


def load_capacity(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "capacity.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line {exc.lineno}: {exc.msg}") from None
    if not isinstance(doc, dict) or not str(doc.get("schema", "")).startswith("gameday.capacity/"):
        raise InputError(f"{path}: key 'schema': not a gameday.capacity document")
    return doc


def _figures(doc: dict[str, Any]) -> dict[str, tuple[float | None, str, bool, bool]]:
    """figure -> (value, unit, worse when up, judged)."""
    out: dict[str, tuple[float | None, str, bool, bool]] = {}
    for r, k in (doc.get("knees") or {}).items():
        out[f"knee at {r} replica(s)"] = (k.get("rps"), "req/s", False, True)
    a = doc.get("answers") or {}
    out["replicas for target (linear)"] = (a.get("replicas_needed"), "", True, True)
    usl = doc.get("usl") or {}
    fit = usl.get("fit") or {}
    out["replicas for target (USL)"] = (usl.get("replicas_for_target"), "", True, False)
    out["USL sigma"] = (fit.get("sigma"), "", True, False)
    out["USL kappa"] = (fit.get("kappa"), "", True, False)
    return out


def _intervals(doc: dict[str, Any]) -> dict[str, list[float | None]]:
    out = {}
    for r, k in (doc.get("knees") or {}).items():
        iv = k.get("interval_rps") if isinstance(k, dict) else None
        if isinstance(iv, list) and len(iv) == 2:
            out[f"knee at {r} replica(s)"] = iv
    return out


def _judge_interval(row: Row, b: list[float | None], n: list[float | None]) -> None:
    overlap = intervals_overlap(b, n)
    fmt = _iv
    if overlap is False and n[1] is not None and b[0] is not None and n[1] < b[0]:
        row.regression = True
        row.note = f"interval {fmt(n)} wholly below the base's {fmt(b)}"
    else:
        row.note = f"intervals {fmt(b)} and {fmt(n)} " + (
            "overlap" if overlap else "do not overlap"
        )


def _num(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.0f}"


def _iv(iv: list[float | None]) -> str:
    return f"{_num(iv[0])}-{'open' if iv[1] is None else _num(iv[1])}"


def compare_capacity(base: dict[str, Any], new: dict[str, Any]) -> list[Row]:
    fb, fn = _figures(base), _figures(new)
    ib, inew = _intervals(base), _intervals(new)
    tol = DEFAULT_TOLERANCES["throughput"]
    rows = []
    for figure in list(fb) + [f for f in fn if f not in fb]:
        _, unit, worse_up, judged = fb.get(figure) or fn[figure]
        n = fn[figure][0] if figure in fn else None
        b = fb[figure][0] if figure in fb else None
        row = Row(figure, "throughput" if unit else "replicas", b, n, unit, worse_up)
        if b is None or n is None:
            row.note = "only in one run" if (b is not None or n is not None) else ""
        elif figure in ib and figure in inew:
            _judge_interval(row, ib[figure], inew[figure])
        elif judged:
            allowed = abs(b) * tol.value if unit else 0.0
            delta = (n - b) if worse_up else (b - n)
            if delta > allowed + 1e-12:
                row.regression = True
                row.note = f"worse by {abs(n - b):g} (tolerance {tol if unit else 0})"
        rows.append(row)
    return rows

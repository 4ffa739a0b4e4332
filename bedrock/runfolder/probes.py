"""`probes.jsonl` (docs/run-folder.md): the entry-point prober's one line per probe.

Writer: `ProbeWriter` (the prober, `loadtests/probes.py`). Readers: `read_probes` (the
report; strict: exit 2 naming file and line) and `tail` (the safeguard monitor, live).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from bedrock.runfolder.jsonl import NUM, JsonlAppender, Tail, get, present, read_rows, write_lines

FILE = "probes.jsonl"
KINDS = ("read", "write", "health")


class Probe(NamedTuple):  # NamedTuple: cheap to build by the 100,000
    t_wall: float
    t_mono: float
    kind: str
    ok: bool
    outcome: str
    latency_s: float | None
    region: str | None


def path_of(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / FILE


class ProbeWriter(JsonlAppender):
    """Appends one line per probe to the run folder's probes.jsonl."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        super().__init__(path_of(run_dir))


def write_probes(run_dir: str | os.PathLike[str], rows: list[dict[str, Any]]) -> None:
    """A whole probes.jsonl at once (synthetic run folders for tests and benchmarks)."""
    write_lines(path_of(run_dir), rows)


def _fast_probe(o: dict[str, Any]) -> Probe | None:
    """The common, well-formed line without per-key checks; None sends it to the slow path."""
    t_wall, t_mono, kind, outcome = (
        o.get("t_wall"),
        o.get("t_mono"),
        o.get("kind"),
        o.get("outcome"),
    )
    latency, region = o.get("latency_s"), o.get("region")
    if (
        type(t_wall) in NUM
        and type(t_mono) in NUM
        and type(kind) is str
        and type(outcome) is str
        and (latency is None or type(latency) in NUM)
    ):
        return Probe(
            float(t_wall),  # type: ignore[arg-type]
            float(t_mono),  # type: ignore[arg-type]
            kind,
            outcome == "ok",
            outcome,
            latency,
            region if type(region) is str else None,
        )
    return None


def read_probe_file(path: Path) -> list[Probe] | None:
    """Every probe by t_mono; None when the file is absent (no prober ran)."""
    if not present(path):
        return None
    num = (int, float)
    probes = []
    for lineno, o in read_rows(path):
        fast = _fast_probe(o)
        if fast is not None:
            probes.append(fast)
            continue
        where = f"{path}:{lineno}"
        outcome = get(o, "outcome", str, where)
        probes.append(
            Probe(
                t_wall=float(get(o, "t_wall", num, where)),
                t_mono=float(get(o, "t_mono", num, where)),
                kind=get(o, "kind", str, where),
                ok=outcome == "ok",
                outcome=outcome,
                latency_s=get(o, "latency_s", num, where, null=True) if "latency_s" in o else None,
                region=o.get("region") if isinstance(o.get("region"), str) else None,
            )
        )
    probes.sort(key=lambda p: p.t_mono)
    return probes


def read_probes(run_dir: str | os.PathLike[str]) -> list[Probe] | None:
    return read_probe_file(path_of(run_dir))


def tail(run_dir: str | os.PathLike[str]) -> Tail:
    """New probe lines as they are appended (live views; bad lines skipped)."""
    return Tail(path_of(run_dir))

"""Read a run folder (docs/run-folder.md) into plain typed records; the only I/O of slo.

Missing optional files become None/empty (the verdicts turn that into
"inconclusive"); malformed lines raise InputError naming file, line and key.
Request histograms are kept as their base64 text here: decoding is measurement
work (slo.histograms) done one second at a time to bound memory.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from gameday.errors import InputError


class Probe(NamedTuple):  # NamedTuple: cheap to build by the 100,000
    t_wall: float
    t_mono: float
    kind: str
    ok: bool
    outcome: str
    latency_s: float | None
    region: str | None


@dataclass(frozen=True)
class Event:
    t_wall: float
    t_mono: float
    kind: str
    source: str
    detail: dict[str, Any]


class LedgerEntry(NamedTuple):
    seq: int
    client: str
    t_send: float
    t_ack: float | None
    outcome: str  # acknowledged | failed | indeterminate


@dataclass(frozen=True)
class Readback:
    client: str
    present_ranges: list[tuple[int, int]]
    source: str


@dataclass(frozen=True)
class RequestLine:
    t: int
    endpoint: str
    hist_b64: str
    outcomes: dict[str, int]
    where: str  # "requests/a.jsonl:12" for error messages


@dataclass
class RunData:
    run_dir: Path
    run: dict[str, Any]
    probes: list[Probe] | None
    events: list[Event]
    ledger: list[LedgerEntry] | None
    readback: Readback | None
    requests: list[RequestLine] | None
    notes: list[str] = field(default_factory=list)


class NotFinite(ValueError):
    """A NaN or infinite number in a run-folder file (JSON allows neither; Python's parser does)."""


def _refuse_constant(name: str) -> float:
    raise NotFinite(f"{name} is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotFinite(f"{text} overflows to {value}")
    return value


_NON_FINITE = re.compile(r"(?<![\w\"])(-?Infinity|NaN)(?![\w\"])|[0-9.][eE]\+?[0-9]{3,}")


def loads_finite(text: str, where: str) -> Any:
    """json.loads that refuses NaN, Infinity and numbers overflowing to inf (InputError naming
    `where` and, for a multi-line document, the first line holding one)."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except NotFinite as exc:
        line = next(
            (i for i, raw in enumerate(text.splitlines(), 1) if _NON_FINITE.search(raw)), None
        )
        at = f":{line}" if line is not None and "\n" in text.strip() else ""
        raise InputError(f"{where}{at}: {exc}: refused (bad data is not a figure)") from None
    except RecursionError:
        raise InputError(f"{where}: nested too deeply: refused (bad data is not a figure)") from None


def load_json_file(path: Path) -> Any:
    """A whole JSON file, finite numbers only; InputError naming file (and line) otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    try:
        return loads_finite(text, str(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None


def _jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path}:{lineno}: not UTF-8 text (byte {raw[exc.start]:#04x} at {exc.start})"
                ) from None
            if not line.strip():
                continue
            try:
                obj = loads_finite(line, f"{path}:{lineno}")
            except json.JSONDecodeError as exc:
                if lineno > 1 and not line.endswith("\n"):
                    continue  # a torn last line from a crash: append-only files allow it
                raise InputError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object")
            rows.append((lineno, obj))
    return rows


def _get(
    obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, *, null: bool = False
) -> Any:
    if key not in obj:
        raise InputError(f"{where}: missing key '{key}'")
    value = obj[key]
    if value is None and null:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InputError(f"{where}: key '{key}' has a wrong type ({type(value).__name__})")
    return value


def read_run_json(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run.json"
    if not path.is_file():
        raise InputError(f"{path}: missing (not a run folder?)")
    run = load_json_file(path)
    if not isinstance(run, dict) or run.get("schema") != "gameday.run/1":
        raise InputError(f"{path}: key 'schema' must be 'gameday.run/1'")
    if run.get("expect", "hold") not in ("hold", "breach"):
        raise InputError(f"{path}: key 'expect' must be 'hold' or 'breach'")
    for key in ("started_wall", "ended_wall", "started_mono", "ended_mono"):
        if run.get(key) is not None and type(run[key]) not in _NUM:
            raise InputError(f"{path}: key '{key}' must be a number (got {run[key]!r})")
    windows = run.get("windows_s")
    if windows is not None:
        if not isinstance(windows, dict):
            raise InputError(f"{path}: key 'windows_s' must map phase -> seconds")
        for name, value in windows.items():
            if type(value) not in _NUM or value < 0:
                raise InputError(f"{path}: key 'windows_s.{name}' must be seconds (got {value!r})")
    return run


_NUM = frozenset({int, float})  # exact types: a bool is not a number here


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
        type(t_wall) in _NUM
        and type(t_mono) in _NUM
        and type(kind) is str
        and type(outcome) is str
        and (latency is None or type(latency) in _NUM)
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


def read_probes(path: Path) -> list[Probe] | None:
    if not path.is_file():
        return None
    num = (int, float)
    probes = []
    for lineno, o in _jsonl(path):
        fast = _fast_probe(o)
        if fast is not None:
            probes.append(fast)
            continue
        where = f"{path}:{lineno}"
        outcome = _get(o, "outcome", str, where)
        probes.append(
            Probe(
                t_wall=float(_get(o, "t_wall", num, where)),
                t_mono=float(_get(o, "t_mono", num, where)),
                kind=_get(o, "kind", str, where),
                ok=outcome == "ok",
                outcome=outcome,
                latency_s=_get(o, "latency_s", num, where, null=True) if "latency_s" in o else None,
                region=o.get("region") if isinstance(o.get("region"), str) else None,
            )
        )
    probes.sort(key=lambda p: p.t_mono)
    return probes


def read_events(path: Path) -> list[Event]:
    if not path.is_file():
        return []
    num = (int, float)
    events = []
    for lineno, o in _jsonl(path):
        where = f"{path}:{lineno}"
        detail = o.get("detail") or {}
        if not isinstance(detail, dict):
            raise InputError(f"{where}: key 'detail' must be an object")
        events.append(
            Event(
                t_wall=float(_get(o, "t_wall", num, where)),
                t_mono=float(_get(o, "t_mono", num, where)),
                kind=_get(o, "kind", str, where),
                source=str(o.get("source", "")),
                detail=detail,
            )
        )
    events.sort(key=lambda e: e.t_mono)
    return events


def read_ledger(path: Path) -> list[LedgerEntry] | None:
    if not path.is_file():
        return None
    num = (int, float)
    entries = []
    for lineno, o in _jsonl(path):
        seq, t_send, t_ack_raw, outcome = (
            o.get("seq"),
            o.get("t_send"),
            o.get("t_ack"),
            o.get("outcome"),
        )
        if (
            type(seq) is int
            and type(t_send) in _NUM
            and (
                (outcome == "acknowledged" and type(t_ack_raw) in _NUM)
                or (outcome in ("failed", "indeterminate") and t_ack_raw is None)
            )
        ):
            client = o.get("client", "")
            entries.append(
                LedgerEntry(
                    seq,
                    client if type(client) is str else str(client),
                    float(t_send),  # type: ignore[arg-type]
                    float(t_ack_raw) if t_ack_raw is not None else None,
                    outcome,
                )
            )
            continue
        where = f"{path}:{lineno}"
        outcome = _get(o, "outcome", str, where)
        if outcome not in ("acknowledged", "failed", "indeterminate"):
            raise InputError(f"{where}: key 'outcome' must be acknowledged|failed|indeterminate")
        t_ack = _get(o, "t_ack", num, where, null=True) if "t_ack" in o else None
        if outcome == "acknowledged" and t_ack is None:
            raise InputError(f"{where}: key 't_ack' is required for an acknowledged write")
        entries.append(
            LedgerEntry(
                seq=_get(o, "seq", int, where),
                client=str(o.get("client", "")),
                t_send=float(_get(o, "t_send", num, where)),
                t_ack=float(t_ack) if t_ack is not None else None,
                outcome=outcome,
            )
        )
    return entries


def read_readback(path: Path) -> Readback | None:
    if not path.is_file():
        return None
    o = load_json_file(path)
    if not isinstance(o, dict):
        raise InputError(f"{path}: expected a JSON object")
    ranges = _get(o, "present_ranges", list, str(path))
    parsed = []
    for i, r in enumerate(ranges):
        if not (isinstance(r, list) and len(r) == 2 and all(type(x) is int for x in r)):
            raise InputError(f"{path}: key 'present_ranges[{i}]' must be [first, last]")
        if r[0] > r[1]:
            raise InputError(f"{path}: key 'present_ranges[{i}]' has first > last")
        parsed.append((r[0], r[1]))
    return Readback(
        client=str(o.get("client", "")), present_ranges=parsed, source=str(o.get("source", ""))
    )


def read_requests(folder: Path) -> list[RequestLine] | None:
    if not folder.is_dir():
        return None
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        return None
    lines: list[RequestLine] = []
    for path in files:
        for lineno, o in _jsonl(path):
            where = f"{path}:{lineno}"
            outcomes = _get(o, "outcomes", dict, where)
            if not all(type(v) is int and v >= 0 for v in outcomes.values()):
                raise InputError(f"{where}: key 'outcomes' must map outcome -> count (>= 0)")
            lines.append(
                RequestLine(
                    t=int(_get(o, "t", (int, float), where)),
                    endpoint=_get(o, "endpoint", str, where),
                    hist_b64=_get(o, "hist", str, where),
                    outcomes=outcomes,
                    where=where,
                )
            )
    lines.sort(key=lambda r: r.t)
    return lines


def load_run(run_dir: Path, *, with_requests: bool = True) -> RunData:
    """Everything slo needs from a run folder (request lines only when asked)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: not a directory")
    return RunData(
        run_dir=run_dir,
        run=read_run_json(run_dir),
        probes=read_probes(run_dir / "probes.jsonl"),
        events=read_events(run_dir / "events.jsonl"),
        ledger=read_ledger(run_dir / "ledger.jsonl"),
        readback=read_readback(run_dir / "readback.json"),
        requests=read_requests(run_dir / "requests") if with_requests else None,
    )

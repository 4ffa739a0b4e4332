"""Trials: one fault run repeated N times, judged as one (DESIGN.md "trials").

Each figure becomes a distribution (every trial's value, the median and the max of
those measured), and the group fails when any trial failed ("failed in k of N
trials", naming the failing trials' folders): a failure that happens in 2 of 5
runs is a failure. Otherwise any inconclusive trial makes the group inconclusive.
Pure functions over the trials' Results (schema `gameday.trials/1`); reading and
writing folders is gameday.trials' job.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock.errors import EXIT_BAD_INPUT, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_SLO_FAILED
from slo.results import Results

TRIALS_SCHEMA = "gameday.trials/1"
WORDS = {
    EXIT_OK: "pass",
    EXIT_SLO_FAILED: "fail",
    EXIT_INCONCLUSIVE: "inconclusive",
    EXIT_BAD_INPUT: "bad input",
}


@dataclass(frozen=True)
class Trial:
    number: int
    run_dir: str
    exit_code: int
    summary: str
    results: Results | None  # None: the trial left no readable results.json


def _slo_value(slo_id: str) -> Callable[[Results], float | None]:
    def get(r: Results) -> float | None:
        return next((s.value for s in r.slos if s.id == slo_id), None)

    return get


def _data(attr: str) -> Callable[[Results], float | None]:
    def get(r: Results) -> float | None:
        d = r.measurements.data
        value = getattr(d, attr) if d is not None else None
        return float(value) if value is not None else None

    return get


def _phase(name: str, stat: str) -> Callable[[Results], float | None]:
    def get(r: Results) -> float | None:
        p = next((p for p in r.measurements.phases if p.name == name), None)
        return getattr(p.all, stat) if p is not None else None

    return get


def _judged(name: str) -> Callable[[Results], float | None]:
    def get(r: Results) -> float | None:
        p = next((p for p in r.measurements.phases if p.name == name), None)
        return float(p.seconds_with_traffic) if p is not None else None

    return get


# (key, label, unit, how to read it from one trial's Results)
FIGURES: tuple[tuple[str, str, str, Callable[[Results], float | None]], ...] = (
    ("failover_s", "failover time", "s", _slo_value("failover")),
    ("rto_s", "RTO", "s", _slo_value("rto")),
    ("rpo_s", "RPO", "s", _data("rpo_s")),
    ("lost_writes", "lost acknowledged writes", "", _data("lost")),
    ("lost_after_fault", "lost after the fault", "", _data("lost_after_fault")),
    ("p95_baseline_ms", "p95 baseline", "ms", _phase("baseline", "p95_ms")),
    ("p95_fault_ms", "p95 fault", "ms", _phase("fault", "p95_ms")),
    ("p99_fault_ms", "p99 fault", "ms", _phase("fault", "p99_ms")),
    ("p95_recovery_ms", "p95 recovery", "ms", _phase("recovery", "p95_ms")),
    ("recovery_judged_s", "recovery judged seconds", "", _judged("recovery")),
    ("availability", "availability", "ratio", _slo_value("availability")),
    ("error_budget", "error budget burn", "ratio", _slo_value("error_budget")),
)


def distribution(values: Sequence[float | None]) -> dict[str, Any]:
    """Every trial's value (None: not measured), and the median and max of the measured."""
    measured = [v for v in values if v is not None]
    return {
        "values": list(values),
        "measured": len(measured),
        "median": statistics.median(measured) if measured else None,
        "max": max(measured) if measured else None,
    }


def figures(trials: Sequence[Trial]) -> dict[str, dict[str, Any]]:
    out = {}
    for key, label, unit, get in FIGURES:
        values = [get(t.results) if t.results is not None else None for t in trials]
        if all(v is None for v in values):
            continue
        out[key] = {"label": label, "unit": unit, **distribution(values)}
    return out


def verdict(trials: Sequence[Trial]) -> dict[str, Any]:
    """fail when any trial failed (naming them), else inconclusive when any was, else pass."""
    n = len(trials)
    for code, word in (
        (EXIT_SLO_FAILED, "failed"),
        (EXIT_BAD_INPUT, "bad input"),
        (EXIT_INCONCLUSIVE, "inconclusive"),
    ):
        hit = [t for t in trials if t.exit_code == code]
        if not hit:
            continue
        folders = ", ".join(t.run_dir for t in hit)
        first = hit[0]
        # the reason first (a suite table cuts long lines), the folders after it
        summary = (
            f"{word} in {len(hit)} of {n} trials: trial {first.number}: {first.summary}; "
            f"see {folders}"
        )
        status = "fail" if code == EXIT_SLO_FAILED else "inconclusive"
        return {"status": status, "exit_code": code, "summary": summary}
    return {"status": "pass", "exit_code": EXIT_OK, "summary": f"held in all {n} trials"}


def trials_doc(name: str, plan: dict[str, Any], trials: Sequence[Trial]) -> dict[str, Any]:
    """The group's results.json (schema gameday.trials/1)."""
    return {
        "schema": TRIALS_SCHEMA,
        "name": name,
        "plan": plan,
        "trials": [
            {
                "trial": t.number,
                "run_dir": t.run_dir,
                "exit_code": t.exit_code,
                "verdict": WORDS.get(t.exit_code, str(t.exit_code)),
                "summary": t.summary,
            }
            for t in trials
        ],
        "figures": figures(trials),
        "verdict": verdict(trials),
    }


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ratio":
        return f"{value * 100:.3f} %"
    if unit == "":
        return f"{value:g}"
    return f"{value:.1f} ms" if unit == "ms" else f"{value:.2f} {unit}"


def figure_rows(doc: dict[str, Any]) -> list[list[str]]:
    """[label, trial values..., median, max] per figure, as text."""
    rows = []
    for fig in doc["figures"].values():
        unit = fig["unit"]
        rows.append(
            [fig["label"]]
            + [fmt(v, unit) for v in fig["values"]]
            + [fmt(fig["median"], unit), fmt(fig["max"], unit)]
        )
    return rows


def markdown(doc: dict[str, Any]) -> str:
    v, trials = doc["verdict"], doc["trials"]
    heads = [f"trial {t['trial']}" for t in trials]
    lines = [
        f"# Trials: {doc['name']} x {len(trials)}",
        "",
        f"**Verdict: {v['status'].upper()}** (exit {v['exit_code']}): {v['summary']}",
        "",
        "| trial | verdict | summary | folder |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {t['trial']} | {t['verdict'].upper()} | {t['summary']} | `{t['run_dir']}` |"
        for t in trials
    ]
    lines += [
        "",
        "## Figures (each trial, median, max)",
        "",
        "| figure | " + " | ".join(heads) + " | median | max |",
        "|---" * (len(heads) + 3) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in figure_rows(doc)]
    return "\n".join(lines) + "\n"

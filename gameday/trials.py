"""`gameday run EXPERIMENT --trials N` and a suite's `trials: N`: one plan run N times.

The trials run one after another on the same stack (each from a healthy stack at
home), each in its own run folder inside a group folder `<time>-<name>-x<N>/`,
which gets the group's results.json (schema gameday.trials/1: every figure as a
distribution), report.md, report.html and one junit.xml merging the trials'.
The verdict and distributions are slo.trials' (pure); this module runs and writes.
Ctrl-C stops after the current trial (which rolls back as any run does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gameday.orchestrate import Run, RunOutcome, preflight
from gameday.plan import RunPlan
from slo.trials import Trial, figure_rows, trials_doc
from slo.trials_render import read_results, write_group

MAX_TRIALS = 20


def group_dir(runs_root: Path, name: str, n: int) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = runs_root / f"{stamp}-{name}-x{n}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = runs_root / f"{stamp}-{name}-x{n}-{suffix}"
    path.mkdir(parents=True)
    return path


def run_trials(
    plan: RunPlan, stack: Any, runs_root: Path, n: int, say: Callable[[str], None] = print
) -> RunOutcome:
    """Run `plan` n times; the outcome's folder is the group's, its verdict the group's."""
    group = group_dir(runs_root, plan.name, n)
    say(f"trials folder: {group}")
    trials: list[Trial] = []
    aborted: str | None = None
    for i in range(1, n + 1):
        say(f"\n--- trial {i}/{n}: {plan.name} x {plan.scenario} ({plan.profile}) ---")
        if i > 1:
            preflight(stack)
        outcome = Run(replace(plan, name=f"{plan.name}.trial{i}"), stack, group, say).execute()
        trial = Trial(
            i,
            str(outcome.run_dir),
            outcome.exit_code,
            outcome.summary,
            read_results(outcome.run_dir),
        )
        trials.append(trial)
        say(f"trial {i}/{n}: exit {trial.exit_code}: {trial.summary}")
        if outcome.aborted and "operator" in outcome.aborted:
            aborted = outcome.aborted
            say(f"gameday: {aborted}: no further trials")
            break
    doc = trials_doc(plan.name, {**plan.describe(), "trials": n}, trials)
    write_group(group, doc)
    for line in table_lines(doc):
        say(line)
    v = doc["verdict"]
    return RunOutcome(group, int(v["exit_code"]), str(v["summary"]), aborted)


def table_lines(doc: dict[str, Any]) -> list[str]:
    """The distributions as an aligned text table (figure, each trial, median, max)."""
    n = len(doc["trials"])
    rows = [["FIGURE", *[f"T{i}" for i in range(1, n + 1)], "MEDIAN", "MAX"], *figure_rows(doc)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [""] + [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]

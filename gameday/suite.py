"""A suite: every run of a suite file, one after another on one local stack, within the
suite's time budget, and one verdict for all of them.

`run_suite` brings the stack up when it is not (and takes it down afterwards unless asked to
keep it), holds the stack's run lock, undoes a dead run's faults first, then runs each plan
(its trials too) and returns one row per run. A run that would overrun the budget is skipped
(inconclusive); Ctrl-C ends the suite with an `(interrupted)` row. `finish` records the runs
in the trend history and writes the suite folder (gameday/summary.py).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bedrock.errors import EXIT_BAD_INPUT, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_SLO_FAILED
from gameday.plan import RunPlan, Suite
from gameday.summary import WORDS

if TYPE_CHECKING:
    from gameday.targets.base import Target
    from stack.control import Stack

Say = Callable[[str], None]
Row = dict[str, Any]  # name, scenario, code, summary, run_dir (summary.json's `runs`)


@dataclass
class SuiteResult:
    rows: list[Row]
    code: int
    elapsed_s: float
    summary_dir: Path


def suite_code(codes: Sequence[int]) -> int:
    """Bad input anywhere wins, then any failed SLO, then anything not a pass: inconclusive."""
    if EXIT_BAD_INPUT in codes:
        return EXIT_BAD_INPUT
    if EXIT_SLO_FAILED in codes:
        return EXIT_SLO_FAILED
    return EXIT_INCONCLUSIVE if any(c != EXIT_OK for c in codes) else EXIT_OK


def _row(name: str, scenario: str, code: int, summary: str, run_dir: Path | None = None) -> Row:
    return {
        "name": name,
        "scenario": scenario,
        "code": code,
        "summary": summary,
        "run_dir": str(run_dir) if run_dir is not None else None,
    }


def run_suite(
    suite: Suite,
    plans: Sequence[RunPlan],
    *,
    topology: Path | None,
    state_dir: Path | None,
    runs_dir: Path,
    keep_up: bool,
    live: contextlib.AbstractContextManager[Any],
    say: Say,
) -> SuiteResult:
    """Run the suite's plans on the local stack (brought up if needed); one row per run."""
    from gameday.orchestrate import new_run_dir
    from gameday.recover import recover_before_run
    from stack.control import Stack
    from stack.heal import run_lock
    from stack.topology import load_topology
    from stack.up import bring_up, layout_for, supervisor_for, tear_down

    started = time.monotonic()
    loaded = load_topology(topology)
    layout = layout_for(loaded.topology, state_dir)
    brought_up = not supervisor_for(layout).running()
    rows: list[Row] = []
    summary_dir = new_run_dir(runs_dir, f"{suite.name}-suite")
    owner = contextlib.ExitStack()
    try:
        if brought_up:
            say("bringing the local stack up")
            bring_up(loaded.topology, loaded.source, state_dir, lambda m: say(f"  {m}"))
        stack = Stack.open(layout.root)
        owner.enter_context(live)
        owner.enter_context(run_lock(layout.root))
        recover_before_run(layout.root, runs_dir, say)
        _run_plans(suite, plans, stack, runs_dir, started, rows, say)
    except KeyboardInterrupt:
        rows.append(_row("(interrupted)", "-", EXIT_INCONCLUSIVE, "interrupted by the operator"))
    finally:
        owner.close()
        if brought_up and not keep_up:
            say("taking the local stack down")
            for problem in tear_down(loaded.topology, state_dir):
                say(f"gameday: {problem}")
    elapsed = time.monotonic() - started
    return SuiteResult(rows, suite_code([r["code"] for r in rows]), elapsed, summary_dir)


def _run_plans(
    suite: Suite,
    plans: Sequence[RunPlan],
    stack: Stack | Target,
    runs_dir: Path,
    started: float,
    rows: list[Row],
    say: Say,
) -> None:
    """Each plan in turn (appending its row as it ends), skipping what the budget cannot hold."""
    from gameday.orchestrate import Run, preflight
    from gameday.trials import run_trials

    for i, plan in enumerate(plans, 1):
        spent = time.monotonic() - started
        need = (plan.windows.total_s + 60) * plan.trials
        if spent + need > suite.budget_s:
            summary = f"skipped: time budget ({suite.budget_s:.0f} s) exhausted"
            rows.append(_row(plan.name, plan.scenario, EXIT_INCONCLUSIVE, summary))
            continue
        times = f", {plan.trials} trials" if plan.trials > 1 else ""
        say(
            f"\n=== run {i}/{len(plans)}: {plan.name} x {plan.scenario} ({plan.profile}{times}) ==="
        )
        preflight(stack, say=say)
        if plan.trials > 1:
            outcome = run_trials(plan, stack, runs_dir, plan.trials, say)
        else:
            outcome = Run(plan, stack, runs_dir, say).execute()
        name = plan.name if plan.trials == 1 else f"{plan.name} x{plan.trials}"
        rows.append(_row(name, plan.scenario, outcome.exit_code, outcome.summary, outcome.run_dir))
        say(f"verdict: {WORDS.get(outcome.exit_code, outcome.exit_code)}: {outcome.summary}")


def finish(suite: Suite, result: SuiteResult, runs_dir: Path, say: Say) -> Path:
    """Record the suite's runs in the trend history and write the suite folder; its HTML page."""
    from gameday.summary import write_summary
    from gameday.trend.cli import record_finished

    history: list[Any] = []
    for row in result.rows:
        if row.get("run_dir"):
            history = record_finished(runs_dir, Path(row["run_dir"]), say)
    return write_summary(
        result.summary_dir,
        suite.name,
        result.rows,
        result.elapsed_s,
        result.code,
        history,
    )

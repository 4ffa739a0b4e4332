"""The `--target k8s` branches of `gameday run` and `gameday nightly` (gameday/run_cli.py).

Both open the target file (`--k8s-target FILE`, default $GAMEDAY_K8S_TARGET), which
refuses a kube context not on the allowlist before any API call, then run
gameday/orchestrate.py's `Run` on `ClusterHandles` (gameday/k8s/run.py): the same run
folder, evidence and verdicts as a local run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from bedrock.errors import EXIT_INCONCLUSIVE, EXIT_OK, InputError
from bedrock.runfolder import reports
from gameday.k8s.run import (
    K8S_SUITE,
    ClusterHandles,
    ClusterRunTarget,
    apply_env,
    k8s_plan,
    open_target,
)
from gameday.live import cli as live_cli
from gameday.plan import SUITES_DIR, RunPlan, load_suite

TARGET_ENV = "GAMEDAY_K8S_TARGET"
Say = Callable[[str], None]


def target_file(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Path | None:
    """--k8s-target, else $GAMEDAY_K8S_TARGET (the CronJob's mounted file), else None."""
    env = os.environ if env is None else env
    given = getattr(args, "k8s_target", None)
    return given or (Path(env[TARGET_ENV]) if env.get(TARGET_ENV) else None)


def _execute(plan: RunPlan, handles: ClusterHandles, runs_dir: Path, say: Say) -> Any:
    from gameday.orchestrate import Run
    from gameday.trials import run_trials

    target = ClusterRunTarget(handles)
    handles.preflight(say=say)
    if plan.trials > 1:
        return run_trials(plan, target, runs_dir, plan.trials, say)
    return Run(plan, target, runs_dir, say).execute()


def run_k8s(args: argparse.Namespace, say: Say) -> int:
    """`gameday run EXPERIMENT --target k8s --k8s-target FILE`."""
    from gameday.summary import WORDS as VERDICT_WORDS
    from gameday.trend.cli import record_finished
    from stack.heal import run_lock

    plan = replace(k8s_plan(args.experiment, args.load, args.profile), trials=args.trials)
    handles = ClusterHandles(open_target(target_file(args)))
    apply_env(handles.chaos_env())
    with live_cli.serving(args, say), run_lock(handles.root):
        outcome = _execute(plan, handles, args.runs_dir, say)
    record_finished(args.runs_dir, outcome.run_dir, say)
    say(f"verdict: {VERDICT_WORDS.get(outcome.exit_code, outcome.exit_code)}: {outcome.summary}")
    say(f"report: {reports.html_path(outcome.run_dir)}")
    return int(outcome.exit_code)


def _suite_plans(suite_path: Path, profile: str | None) -> tuple[Any, list[RunPlan]]:
    suite, plans = load_suite(suite_path, profile)
    out = []
    for plan in plans:
        name = plan.experiment.stem if plan.experiment else "none"
        out.append(replace(k8s_plan(name, plan.scenario, plan.profile), trials=plan.trials))
    return suite, out


def nightly_k8s(args: argparse.Namespace, say: Say) -> int:
    """`gameday nightly --target k8s`: the suite's runs one after another, one verdict."""
    from gameday.orchestrate import new_run_dir
    from gameday.run_cli import _table
    from gameday.suite import suite_code
    from gameday.summary import WORDS as VERDICT_WORDS
    from gameday.summary import write_summary
    from gameday.trend.cli import record_finished
    from stack.heal import run_lock

    suite_path = K8S_SUITE if args.suite == SUITES_DIR / "nightly.yaml" else args.suite
    suite, plans = _suite_plans(suite_path, args.profile)
    if args.dry_run:
        for plan in plans:
            say(str(plan.describe()))
        return EXIT_OK
    handles = ClusterHandles(open_target(target_file(args)))
    apply_env(handles.chaos_env())
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    summary_dir = new_run_dir(args.runs_dir, f"{suite.name}-suite")
    try:
        with live_cli.serving(args, say), run_lock(handles.root):
            for i, plan in enumerate(plans, 1):
                rows.append(_suite_run(i, len(plans), plan, handles, args, suite, started, say))
    except KeyboardInterrupt:
        rows.append(_row("(interrupted)", "-", EXIT_INCONCLUSIVE, "interrupted by the operator"))
    code = suite_code([r["code"] for r in rows])
    table = [["RUN", "LOAD", "VERDICT", "SUMMARY"]] + [
        [r["name"], r["scenario"], VERDICT_WORDS.get(r["code"], str(r["code"])), r["summary"][:90]]
        for r in rows
    ]
    say("\n" + _table(table))
    history: list[Any] = []
    for row in rows:
        if row.get("run_dir"):
            history = record_finished(args.runs_dir, Path(row["run_dir"]), say)
    elapsed = time.monotonic() - started
    report = write_summary(summary_dir, suite.name, rows, elapsed, code, history)
    say(f"\nsuite {suite.name} (k8s): {VERDICT_WORDS.get(code, code)} in {elapsed / 60:.1f} min")
    say(f"report: {report}")
    sys.stdout.flush()
    return code


def _row(
    name: str, scenario: str, code: int, summary: str, run_dir: str | None = None
) -> dict[str, Any]:
    return {"name": name, "scenario": scenario, "code": code, "summary": summary,
            "run_dir": run_dir}  # fmt: skip


def _suite_run(i: int, n: int, plan: RunPlan, handles: ClusterHandles, args: argparse.Namespace,
               suite: Any, started: float, say: Say) -> dict[str, Any]:  # fmt: skip
    from gameday.summary import WORDS as VERDICT_WORDS

    need = (plan.windows.total_s + 60) * plan.trials
    if time.monotonic() - started + need > suite.budget_s:
        return _row(plan.name, plan.scenario, EXIT_INCONCLUSIVE,
                    f"skipped: time budget ({suite.budget_s:.0f} s) exhausted")  # fmt: skip
    trials = f", {plan.trials} trials" if plan.trials > 1 else ""
    say(f"\n=== run {i}/{n}: {plan.name} x {plan.scenario} ({plan.profile}{trials}, k8s) ===")
    try:
        outcome = _execute(plan, handles, args.runs_dir, say)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - one run's setup failure is that run's verdict
        return _row(plan.name, plan.scenario, EXIT_INCONCLUSIVE, f"setup failed: {exc}")
    say(f"verdict: {VERDICT_WORDS.get(outcome.exit_code, outcome.exit_code)}: {outcome.summary}")
    name = plan.name if plan.trials == 1 else f"{plan.name} x{plan.trials}"
    return _row(name, plan.scenario, outcome.exit_code, outcome.summary, str(outcome.run_dir))

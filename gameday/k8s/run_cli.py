"""The `--target k8s` branches of `gameday run`, `gameday nightly` and `gameday recover`.

Each opens the target file (`--k8s-target FILE`, default $GAMEDAY_K8S_TARGET: the nightly
CronJob's mounted ConfigMap), which refuses a kube context not on the allowlist before any
API call. `run` and `nightly` then hold the cluster's run lock, undo what a dead runner
left (the target's `recover`), journal the desired replicas (`begin_runs`), mirror the
controllers' events while they run, and run gameday/orchestrate.py's `Run` (one
experiment) or gameday/suite.py's loop (a suite) on the KubernetesTarget: the same run
folder, evidence and verdicts as a local run.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from bedrock.errors import EXIT_INCONCLUSIVE, EXIT_OK, SetupError
from gameday.k8s.run import K8S_SUITE, apply_env, k8s_plan, open_target
from gameday.live import cli as live_cli
from gameday.plan import SUITES_DIR, RunPlan, load_suite
from gameday.targets.kubernetes import KubernetesTarget

TARGET_ENV = "GAMEDAY_K8S_TARGET"
Say = Callable[[str], None]


def target_file(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Path | None:
    """--k8s-target, else $GAMEDAY_K8S_TARGET (the CronJob's mounted file), else None."""
    env = os.environ if env is None else env
    given = getattr(args, "k8s_target", None)
    return given or (Path(env[TARGET_ENV]) if env.get(TARGET_ENV) else None)


@contextmanager
def session(target: KubernetesTarget, args: argparse.Namespace, say: Say) -> Iterator[None]:
    """One runner on the cluster: lock, recover first, journal, controllers' events."""
    from stack.heal import run_lock

    target.state_root.mkdir(parents=True, exist_ok=True)
    with live_cli.serving(args, say), run_lock(target.state_root), target.collecting_events():
        problems = target.recover(lambda m: say(f"recover: {m}"))
        if problems:
            raise SetupError(
                "the cluster still carries faults of an earlier run ("
                + "; ".join(problems)
                + "): run `gameday recover --target k8s`"
            )
        target.begin_runs()
        apply_env(target.chaos_env())
        yield
        target.end_runs()  # not reached when a run raised: the journal stays for recover


def run_k8s(args: argparse.Namespace, say: Say) -> int:
    """`gameday run EXPERIMENT --target k8s --k8s-target FILE`."""
    from gameday.run_cli import report_run, run_one

    plan = replace(k8s_plan(args.experiment, args.load, args.profile), trials=args.trials)
    target = open_target(target_file(args))
    with session(target, args, say):
        outcome = run_one(plan, target, args.runs_dir, plan.trials, say)
    return report_run(outcome, args.runs_dir, say)


def _suite_plans(suite_path: Path, profile: str | None) -> tuple[Any, list[RunPlan]]:
    suite, plans = load_suite(suite_path, profile)
    out = []
    for plan in plans:
        name = plan.experiment.stem if plan.experiment else "none"
        out.append(replace(k8s_plan(name, plan.scenario, plan.profile), trials=plan.trials))
    return suite, out


def nightly_k8s(args: argparse.Namespace, say: Say) -> int:
    """`gameday nightly --target k8s`: gameday/suite.py's loop on the cluster, one verdict."""
    from gameday import suite as suites
    from gameday.orchestrate import new_run_dir
    from gameday.run_cli import report_suite

    suite_path = K8S_SUITE if args.suite == SUITES_DIR / "nightly.yaml" else args.suite
    suite, plans = _suite_plans(suite_path, args.profile)
    if args.dry_run:
        for plan in plans:
            say(str(plan.describe()))
        return EXIT_OK
    target = open_target(target_file(args))
    started = time.monotonic()
    rows: list[suites.Row] = []
    summary_dir = new_run_dir(args.runs_dir, f"{suite.name}-suite")
    try:
        with session(target, args, say):
            suites._run_plans(suite, plans, target, args.runs_dir, started, rows, say)
    except KeyboardInterrupt:
        rows.append(suites._row("(interrupted)", "-", EXIT_INCONCLUSIVE, "interrupted"))
    code = suites.suite_code([r["code"] for r in rows])
    result = suites.SuiteResult(rows, code, time.monotonic() - started, summary_dir)
    return report_suite(suite, result, args.runs_dir, say, label=" (k8s)")


def recover_k8s(args: argparse.Namespace, say: Say) -> list[str]:
    """`gameday recover --target k8s`: undo what the cluster's journal holds; the problems."""
    from stack.heal import run_lock

    target = open_target(target_file(args))
    target.state_root.mkdir(parents=True, exist_ok=True)
    with run_lock(target.state_root):
        return target.recover(say, args.deadline)

"""`gameday run` (one experiment under load) and `gameday nightly` (a suite, one verdict)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bedrock import options
from bedrock.errors import EXIT_OK, InputError
from bedrock.runfolder import reports
from gameday.live import cli as live_cli
from gameday.plan import (
    PROFILE_WINDOWS,
    SUITES_DIR,
    RunPlan,
    load_experiment,
    load_suite,
    make_plan,
)
from gameday.summary import WORDS
from gameday.targets import faults
from gameday.trend.cli import record_finished


def register(sub: Any) -> None:
    _register_run(sub)
    _register_nightly(sub)


def _register_run(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run one experiment under load and judge the SLOs",
        description="Break the stack under load, record everything into runs/<time>-<name>/, "
        "and judge the SLOs. EXPERIMENT is a name from experiments/ (kill-region, ...), a "
        "Chaos Toolkit file, or 'none' for load only. Ctrl-C rolls the fault back and still "
        "writes a readable report.",
    )
    p.add_argument("experiment")
    p.add_argument(
        "--load",
        default="progressive",
        metavar="SCENARIO",
        help="load scenario (default progressive)",
    )
    p.add_argument(
        "--profile", default="ci", help=f"one of {', '.join(PROFILE_WINDOWS)} (default ci)"
    )
    p.add_argument("--target", default="local", choices=["local", "k8s"])
    p.add_argument(
        "--k8s-target", type=Path, default=None, help="with --target k8s: the target file (YAML)"
    )
    options.add_state_dir(p)
    p.add_argument(
        "--runs-dir",
        type=options.output_dir,
        default=Path("runs"),
        help="where run folders go (default runs/)",
    )
    p.add_argument(
        "--trials",
        type=options.integer(1, 20),
        default=1,
        metavar="N",
        help="run the experiment N times (1-20); each figure becomes a distribution and the "
        "run fails when any trial fails",
    )
    p.add_argument("--dry-run", action="store_true", help="print what would be hit and do nothing")
    live_cli.add_arguments(p)
    p.set_defaults(func=cmd_run)


def _register_nightly(sub: Any) -> None:
    p = sub.add_parser(
        "nightly",
        help="run a suite of experiments on one stack; exit non-zero when any verdict fails",
        description="Bring the local stack up (unless it is up), run every run of the suite one "
        "after another within its time budget, print a summary table, take the stack down "
        "again if this command brought it up.",
    )
    p.add_argument("--suite", type=Path, default=SUITES_DIR / "nightly.yaml")
    p.add_argument("--profile", default=None, help="override the suite's profile (e.g. ci)")
    p.add_argument(
        "--topology",
        type=Path,
        default=None,
        help="topology for `up` (default: the full local one)",
    )
    options.add_state_dir(
        p, help="the stack's state (default $GAMEDAY_STATE_DIR, else the topology's, else <tmp>)"
    )
    p.add_argument(
        "--runs-dir",
        "--out",
        type=options.output_dir,
        default=Path("runs"),
        help="where run folders go",
    )
    p.add_argument("--target", default="local", choices=["local", "k8s"])
    p.add_argument(
        "--k8s-target", type=Path, default=None, help="with --target k8s: the target file (YAML)"
    )
    p.add_argument("--keep-up", action="store_true", help="leave the stack running afterwards")
    p.add_argument(
        "--dry-run", action="store_true", help="validate the suite and print the plan only"
    )
    live_cli.add_arguments(p)
    p.set_defaults(func=cmd_nightly)


def _say(msg: str) -> None:
    print(msg, flush=True)


# What each shipped experiment asks of the Kubernetes target (gameday/targets/faults.py values).
K8S_FAULTS: dict[str, list[faults.Fault]] = {
    "kill-api-pod": [faults.PodKill("primary", 1)],
    "kill-db-primary": [faults.DbPrimaryKill("primary")],
    "kill-region": [faults.RegionLoss("primary")],
    "freeze-region": [faults.RegionLoss("primary")],
    "kill-failover-controller": [faults.RegionLoss("primary"), faults.ControllerKill("primary")],
}


def k8s_dry_run(plan: RunPlan, target_file: Path | None) -> int:
    """Check the kube contexts against the allowlist (no API call) and list what would be hit."""
    from gameday.targets.k8s_settings import load_settings
    from gameday.targets.kubernetes import KubernetesTarget

    if target_file is None:
        raise InputError(
            "--target k8s needs --k8s-target FILE (see manifests/k8s/target.example.yaml)"
        )
    name = plan.experiment.stem if plan.experiment else "none"
    if name not in K8S_FAULTS:
        raise InputError(
            f"experiment {name!r} has no Kubernetes form (known: {', '.join(K8S_FAULTS)})"
        )
    target = KubernetesTarget(load_settings(target_file))
    wanted = K8S_FAULTS[name]
    for fault in wanted:
        target.chaos_secrets(fault.region)  # refuses a context that is not allowlisted
    print(json.dumps(plan.describe(), indent=2))
    for line in target.plan(wanted):
        print(line)
    return EXIT_OK


def dry_run(plan: RunPlan, state_dir: Path | None) -> None:
    print(json.dumps(plan.describe(), indent=2))
    if plan.experiment is None:
        print("no fault: load only")
        return
    doc = load_experiment(plan.experiment)
    print(f"experiment: {doc['title']} - {doc.get('description', '')}")
    for section in ("method", "rollbacks"):
        for act in doc.get(section, []):
            prov = act.get("provider", {})
            print(
                f"  {section}: {act.get('type')} {act.get('name')}: {prov.get('func')}({prov.get('arguments', {})})"
            )
    try:
        from stack.control import Stack

        stack = Stack.open(state_dir)
    except Exception as exc:  # noqa: BLE001 - a dry run without a stack still prints the plan
        print(f"(no running stack to resolve targets: {exc})")
        return
    procs = stack.processes(check_health=False)
    print("processes that a region fault of 'primary' would hit:")
    for p in procs:
        if p.region == "primary":
            print(f"  {p.name:<20} {p.role:<9} pid {p.pid}")
    print(
        f"db leader now: {stack.db_leader()}; edge routes to: {', '.join(stack.edge_active_regions())}"
    )


def cmd_run(args: argparse.Namespace) -> int:
    from gameday.recover import recover_before_run
    from gameday.trials import MAX_TRIALS
    from stack.control import Stack
    from stack.heal import run_lock

    if not 1 <= args.trials <= MAX_TRIALS:
        raise InputError(f"--trials {args.trials}: must be in [1, {MAX_TRIALS}]")
    plan = make_plan(args.experiment, args.load, args.profile, args.target)
    if args.target == "k8s":
        from gameday.k8s.run_cli import run_k8s, target_file

        if args.dry_run:
            return k8s_dry_run(plan, target_file(args))
        return run_k8s(args, _say)
    if args.dry_run:
        dry_run(plan, args.state_dir)
        return EXIT_OK
    stack = Stack.open(args.state_dir)
    with live_cli.serving(args, _say):
        with run_lock(stack.root):  # one run per stack; a dead run's faults are undone first
            recover_before_run(stack.root, args.runs_dir, _say)
            outcome = run_one(plan, stack, args.runs_dir, args.trials, _say)
        return report_run(outcome, args.runs_dir, _say)


def run_one(plan: RunPlan, target: Any, runs_dir: Path, trials: int, say: Any) -> Any:
    """Preflight, then the run (or its trials) on `target` (a Target or a local Stack)."""
    from gameday.orchestrate import Run, preflight
    from gameday.trials import run_trials

    preflight(target, say=say)
    if trials > 1:
        return run_trials(plan, target, runs_dir, trials, say)
    return Run(plan, target, runs_dir, say).execute()


def report_run(outcome: Any, runs_dir: Path, say: Any) -> int:
    """Record the run in the trend history and say its verdict and report (local and k8s)."""
    record_finished(runs_dir, outcome.run_dir, say)
    say(f"verdict: {WORDS.get(outcome.exit_code, outcome.exit_code)}: {outcome.summary}")
    say(f"report: {reports.html_path(outcome.run_dir)}")
    return int(outcome.exit_code)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def cmd_nightly(args: argparse.Namespace) -> int:
    from gameday import suite as suites

    if args.target == "k8s":
        from gameday.k8s.run_cli import nightly_k8s

        return nightly_k8s(args, _say)
    suite, plans = load_suite(args.suite, args.profile)
    if args.dry_run:
        for plan in plans:
            print(json.dumps(plan.describe()))
        return EXIT_OK
    result = suites.run_suite(
        suite,
        plans,
        topology=args.topology,
        state_dir=args.state_dir,
        runs_dir=args.runs_dir,
        keep_up=args.keep_up,
        live=live_cli.serving(args, _say),
        say=_say,
    )
    return report_suite(suite, result, args.runs_dir, _say)


def report_suite(suite: Any, result: Any, runs_dir: Path, say: Any, label: str = "") -> int:
    """The suite's table, trend history and summary folder (local and k8s); its exit code."""
    from gameday import suite as suites

    table = [["RUN", "LOAD", "VERDICT", "SUMMARY"]] + [
        [r["name"], r["scenario"], WORDS.get(r["code"], str(r["code"])), r["summary"][:90]]
        for r in result.rows
    ]
    say("\n" + _table(table))
    report = suites.finish(suite, result, runs_dir, say)
    say(
        f"\nsuite {suite.name}{label}: {WORDS.get(result.code, result.code)} in {result.elapsed_s / 60:.1f} min"
    )
    say(f"report: {report}")
    sys.stdout.flush()
    return int(result.code)

"""`gameday recover`: heal the stack a dead run left behind and mark its run folder.

    gameday recover [--state-dir DIR] [--runs-dir runs] [--deadline 30]
    gameday recover --target k8s [--k8s-target FILE]   (the cluster's safety-net journal)

One line per thing undone (stack/heal.py), one per run folder marked interrupted
(gameday/interrupted.py). Exit 0 when the stack is back at home with nothing left
in the fault journal; 3 when something could not be undone (each named).
`gameday run` and `nightly` call `recover_before_run` before they start.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bedrock import options
from bedrock.errors import EXIT_INCONCLUSIVE, EXIT_OK, SetupError

Say = Callable[[str], None]
RECOVER_DEADLINE_S = 30.0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "recover",
        help="undo what a dead run left (faults, frozen or stopped processes, routing) and "
        "mark its run folder interrupted",
        description="Undo every fault in the stack's fault journal and every one still visible "
        "(stopped processes, our nftables rules, injected latency, a region scaled to 0, the edge "
        "or the database leader away from home), one line per thing undone; mark run folders "
        "whose runner died so `gameday report` judges them INCONCLUSIVE.",
    )
    p.add_argument("--state-dir", type=Path, default=None)
    p.add_argument("--target", default="local", choices=["local", "k8s"])
    p.add_argument(
        "--k8s-target", type=Path, default=None, help="with --target k8s: the target file (YAML)"
    )
    p.add_argument("--runs-dir", type=options.input_dir, default=Path("runs"), help="default runs/")
    p.add_argument(
        "--deadline",
        type=options.number(0, 3600),
        default=RECOVER_DEADLINE_S,
        help="seconds (default 30)",
    )
    p.set_defaults(func=cmd_recover)


def _say(msg: str) -> None:
    print(msg, flush=True)


def heal_stack(state_dir: Path | None, say: Say, deadline_s: float) -> list[str]:
    """Heal the stack at `state_dir` (the caller holds its run lock); return the problems."""
    from gameday.targets.local import LocalTarget

    try:
        target = LocalTarget.open(state_dir)
    except SetupError as exc:
        say(f"no stack to heal: {exc}")
        return []
    problems = target.recover(say, deadline_s)
    for problem in problems:
        say(f"NOT undone: {problem}")
    return problems


def cmd_recover(args: argparse.Namespace) -> int:
    from gameday.interrupted import mark_interrupted
    from stack.heal import run_lock
    from stack.state_dir import check_state_dir, resolve_state_dir

    started = time.monotonic()
    root = resolve_state_dir(args.state_dir)
    problems: list[str] = []
    check_state_dir(root)  # exit 2 for /, ., a home or a foreign directory: nothing touched
    if args.target == "k8s":
        from gameday.k8s.run_cli import recover_k8s

        problems = recover_k8s(args, _say)
        for problem in problems:
            _say(f"NOT undone: {problem}")
    elif root.is_dir():
        with run_lock(root):
            problems = heal_stack(root, _say, args.deadline)
    else:
        _say(f"no stack at {root}: nothing to heal")
    marked = mark_interrupted(args.runs_dir, _say)
    took = time.monotonic() - started
    if problems:
        _say(f"recover: {len(problems)} problem(s) left after {took:.1f} s (see above)")
        return EXIT_INCONCLUSIVE
    _say(f"recover: done in {took:.1f} s ({len(marked)} run folder(s) marked interrupted)")
    return EXIT_OK


def recover_before_run(state_dir: Path, runs_dir: Path, say: Say) -> None:
    """What `run` and `nightly` do first (holding the run lock): heal, or refuse naming recover."""
    from gameday.interrupted import mark_interrupted

    problems = heal_stack(state_dir, lambda m: say(f"recover: {m}"), RECOVER_DEADLINE_S)
    mark_interrupted(runs_dir, lambda m: say(f"recover: {m}"))
    if problems:
        raise SetupError(
            "the stack still carries faults of an earlier run ("
            + "; ".join(problems)
            + "): run `gameday recover`, or `gameday down` then `gameday up`"
        )

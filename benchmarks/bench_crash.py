"""Kill `gameday run` at random moments, N times, and print what each kill left behind.

    .venv/bin/python benchmarks/bench_crash.py --topology /work/helpers/topo-3.yaml --kills 20
        [--state-dir DIR] [--follow-every 1] [--seed 7] [--work /tmp/gameday-crash-bench]

Cycles through kill-region, freeze-region, partition-redis-master and add-latency, killing
the runner alone and with its whole process tree in turn, at a random moment of the run's
first 34 s (baseline, fault or rollback). Per kill: processes of the run alive 10 s later,
`gameday recover`'s exit code and duration, whether the stack is at home afterwards, and
(every --follow-every kills; default every one) whether a following `gameday run
kill-api-pod --profile ci` passes. Needs a running stack: --state-dir, or the state
directory of --topology (not run in CI). partition-redis-master takes
/tmp/gameday-machine.lock (do not run this under `flock`).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stack.control import Stack  # noqa: E402
from stack.state_dir import resolve_state_dir  # noqa: E402
from stack.topology import load_topology  # noqa: E402
from tests.support.crash_harness import Crash, crash_once, table  # noqa: E402

EXPERIMENTS = ["kill-region", "freeze-region", "partition-redis-master", "add-latency"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topology", type=Path, default=None, help="the stack's topology file")
    parser.add_argument("--state-dir", type=Path, default=None, help="default: the topology's")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--follow-every", type=int, default=1, help="0: never")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument(
        "--after-fault",
        default=None,
        metavar="LO,HI",
        help="kill LO-HI s after the run's fault is held (default: 1-34 s after its folder "
        "appears); e.g. 22,30 kills region runs after the database was promoted",
    )
    parser.add_argument(
        "--experiments", default=",".join(EXPERIMENTS), help="comma-separated, cycled in order"
    )
    args = parser.parse_args()
    experiments = args.experiments.split(",")
    after_fault = args.after_fault is not None
    lo, hi = (float(x) for x in (args.after_fault or "1,34").split(","))
    window = (lo, hi)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="gameday-crash-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)
    state_dir = args.state_dir
    if state_dir is None and args.topology is not None:
        state_dir = resolve_state_dir(None, load_topology(args.topology).topology.state_dir)
    if state_dir is None:
        parser.error("give --topology or --state-dir (the running stack to crash on)")
    stack = Stack.open(state_dir)
    crashes: list[Crash] = []
    print(f"seed {seed}; stack {stack.root}; work {work}", flush=True)
    for i in range(args.kills):
        experiment = experiments[i % len(experiments)]
        mode = "runner" if (i // len(experiments)) % 2 == 0 else "tree"
        follow = bool(args.follow_every) and (i + 1) % args.follow_every == 0
        try:
            crash = crash_once(
                stack, work / f"{i + 1:02d}", experiment, mode, rng, follow, window, after_fault
            )
        except (AssertionError, TimeoutError, OSError, subprocess.SubprocessError) as exc:
            crash = Crash(experiment, mode, phase=f"not run: {exc}"[:60])  # a row, not a crash
        crashes.append(crash)
        print(table(crashes).splitlines()[-1], flush=True)
        if not crash.ok:
            print(f"  survivors: {crash.survivors}\n  not home: {crash.not_home}")
            print("  recover: " + crash.recover_out.strip().replace("\n", "\n           "))
    print()
    print(table(crashes))
    times = [c.recover_s for c in crashes]
    print(
        f"\n{sum(c.ok for c in crashes)}/{len(crashes)} clean; orphans alive at 10 s: "
        f"{sum(len(c.survivors) for c in crashes)}; recover exit 0: "
        f"{sum(c.recover_rc == 0 for c in crashes)}/{len(crashes)}; recover s median "
        f"{statistics.median(times):.1f}, max {max(times):.1f}; home afterwards: "
        f"{sum(not c.not_home for c in crashes)}/{len(crashes)}; following runs passed: "
        f"{sum(c.follow_rc == 0 for c in crashes)}/{sum(c.follow_rc is not None for c in crashes)}"
    )
    return 0 if all(c.ok for c in crashes) else 1


if __name__ == "__main__":
    sys.exit(main())

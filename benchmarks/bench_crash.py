"""Kill `gameday run` at random moments, N times, and print what each kill left behind.

    .venv/bin/python benchmarks/bench_crash.py --state-dir /tmp/gameday-h5/state --kills 20
        [--follow-every 4] [--seed 7] [--work /tmp/gameday-crash-bench]

Cycles through kill-region, freeze-region, partition-redis-master and add-latency, killing
the runner alone and with its whole process tree in turn, at a random moment of the run's
first 34 s. Per kill: processes of the run alive 10 s later, `gameday recover`'s exit code
and duration, whether the stack is at home afterwards, and (every --follow-every kills)
whether a following `gameday run kill-api-pod` passes. Needs a running stack (not run in CI).
partition-redis-master takes /tmp/gameday-machine.lock (do not run this under `flock`).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stack.control import Stack  # noqa: E402
from tests.support.crash_harness import Crash, crash_once, table  # noqa: E402

EXPERIMENTS = ["kill-region", "freeze-region", "partition-redis-master", "add-latency"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--follow-every", type=int, default=4, help="0: never")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument(
        "--experiments", default=",".join(EXPERIMENTS), help="comma-separated, cycled in order"
    )
    args = parser.parse_args()
    experiments = args.experiments.split(",")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="gameday-crash-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)
    stack = Stack.open(args.state_dir)
    crashes: list[Crash] = []
    print(f"seed {seed}; work {work}", flush=True)
    for i in range(args.kills):
        experiment = experiments[i % len(experiments)]
        mode = "runner" if (i // len(experiments)) % 2 == 0 else "tree"
        follow = bool(args.follow_every) and (i + 1) % args.follow_every == 0
        crash = crash_once(stack, work / f"{i + 1:02d}", experiment, mode, rng, follow)
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

"""Benchmark: `gameday up` wall time and the stack's resident memory once up.

Runs `up` then `down` a few times on the given topology (default: the full
local topology) and prints the figures. Goal on a 2-core machine: up <= 30 s,
<= 1.5 GB resident. Not run in CI.

    .venv/bin/python benchmarks/bench_stack_up.py [--topology FILE] [--trials 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from stack.control import Stack
from stack.supervisor import process_tree
from stack.topology import load_topology
from stack.up import bring_up, tear_down


def stack_rss_bytes(stack: Stack) -> tuple[int, int]:
    procs: dict[int, psutil.Process] = {}
    sup_pid = stack.sup.pid()
    if sup_pid:
        procs[sup_pid] = psutil.Process(sup_pid)
    for tree in stack.trees(list(stack.programs)).values():
        for proc in tree:
            procs[proc.pid] = proc
    for member in stack.handles["patroni_urls"]:
        pm = stack.postmaster_pid(member)
        if pm:
            procs.update({p.pid: p for p in process_tree(pm)})
    total = 0
    for proc in procs.values():
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total, len(procs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--topology", type=Path, default=None)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    loaded = load_topology(args.topology)
    ups, downs, rss = [], [], []
    for trial in range(args.trials):
        work = Path(tempfile.mkdtemp(prefix="gameday-bench-"))
        os.chmod(work, 0o755)
        state = work / "state"
        start = time.monotonic()
        bring_up(loaded.topology, loaded.source, state, deadline_s=180)
        ups.append(time.monotonic() - start)
        stack = Stack.open(state)
        time.sleep(3)  # let Prometheus and the API settle before reading memory
        total, count = stack_rss_bytes(stack)
        rss.append(total)
        start = time.monotonic()
        problems = tear_down(loaded.topology, state)
        downs.append(time.monotonic() - start)
        print(
            f"trial {trial + 1}: up {ups[-1]:.1f} s, {count} processes, RSS {total / 2**20:.0f} MiB, "
            f"down {downs[-1]:.1f} s{'' if not problems else ' PROBLEMS: ' + '; '.join(problems)}"
        )
    print(
        f"gameday up: median {statistics.median(ups):.1f} s, max {max(ups):.1f} s (goal <= 30 s); "
        f"resident memory: median {statistics.median(rss) / 2**20:.0f} MiB (goal <= 1536 MiB); "
        f"down: median {statistics.median(downs):.1f} s"
    )


if __name__ == "__main__":
    main()

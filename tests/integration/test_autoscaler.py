"""The autoscaler and `gameday capacity` on a real local stack of their own.

The stack runs on 127.0.41-43.x and 127.0.49.1 (a copy of topology-ci.yaml), apart from the
session stack of the other integration tests. `gameday capacity --profile smoke` runs once, in a
subprocess, against it (load ladders at 1-2 replicas, two trials, start-up timing, then a 90 -> 450 req/s
spike with the daemon on, HPA clock x10); the tests read what it wrote: the report, and the
spike's run folder (events.jsonl, requests/*.jsonl).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autoscaler.spec import load_hpa
from bedrock.errors import EXIT_INCONCLUSIVE, EXIT_OK
from gameday.capacity.run import PROFILES
from loadtests.histograms import load_cells
from slo.runfolder import read_events
from stack.control import Stack
from stack.topology import load_topology
from stack.up import bring_up, tear_down
from tests.integration.conftest import CI_TOPOLOGY, LOG_KEEP, wait_until

pytestmark = pytest.mark.timeout(900)

ADDRESSES = {
    "127.0.1.0/24": "127.0.41.0/24",
    "127.0.2.0/24": "127.0.42.0/24",
    "127.0.3.0/24": "127.0.43.0/24",
    "127.0.9.1": "127.0.49.1",
}
PLAN = PROFILES["smoke"].local_spike
assert PLAN is not None
SPEC = load_hpa("manifests/k8s/base/hpa.yaml")


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="gameday-autoscaler-it-"))
    os.chmod(root, 0o755)  # PostgreSQL runs as the postgres user
    text = CI_TOPOLOGY.read_text().replace("name: twinme-ci", "name: twinme-autoscaler-it")
    for old, new in ADDRESSES.items():
        text = text.replace(old, new)
    (root / "topology.yaml").write_text(text)
    loaded = load_topology(root / "topology.yaml")
    state = root / "state"
    try:
        bring_up(loaded.topology, loaded.source, state, deadline_s=180)
        yield Stack.open(state)
    finally:
        if (state / "logs").exists():
            shutil.copytree(state / "logs", LOG_KEEP / "autoscaler-stack", dirs_exist_ok=True)
        tear_down(loaded.topology, state)
        shutil.rmtree(root, ignore_errors=True)


def gameday(*argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameday.cli", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_autoscaler_run_scales_the_real_stack_to_min_replicas(
    own_stack: Stack, tmp_path: Path
) -> None:
    assert own_stack.replicas("primary") == 2  # topology-ci: below the HPA's minReplicas 3
    events = tmp_path / "events.jsonl"
    done = gameday(
        "autoscaler", "run", "--region", "primary", "--prometheus", own_stack.prometheus_url,
        "--events", str(events), "--period", "1", "--max-cycles", "3",
        "--scaler-opt", f"state_dir={own_stack.root}",
        timeout=120,
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    assert "primary: scale 2 -> 3" in done.stdout
    assert own_stack.replicas("primary") == 3
    kinds = [(e.kind, e.detail.get("replica")) for e in read_events(events)]
    assert ("replica.started", "api-primary-2") in kinds
    wait_until(lambda: own_stack.ready_replicas("primary") == 3, 30, "3 replicas ready")


@pytest.fixture(scope="module")
def capacity(own_stack: Stack) -> Iterator[tuple[subprocess.CompletedProcess[str], Path]]:
    out = Path(tempfile.mkdtemp(prefix="gameday-capacity-it-"))
    try:
        done = gameday(
            "capacity", "--profile", "smoke", "--state-dir", str(own_stack.root), "--out", str(out),
            timeout=800,
        )  # fmt: skip
        yield done, out
    finally:
        shutil.copytree(out, LOG_KEEP / "capacity-ci", dirs_exist_ok=True)
        shutil.rmtree(out, ignore_errors=True)


def spike_dir(out: Path) -> Path:
    (found,) = sorted((out / "spike").iterdir())
    return found


def test_capacity_ci_finishes_and_writes_its_report(capacity: Any) -> None:
    done, out = capacity
    assert done.returncode in (EXIT_OK, EXIT_INCONCLUSIVE), done.stdout + done.stderr
    for name in ("capacity-report.md", "capacity-report.html", "capacity-latency.png"):
        assert (out / name).stat().st_size > 0
    report = json.loads((out / "capacity.json").read_text())
    ci = PROFILES["smoke"]
    assert report["schema"] == "gameday.capacity/3"
    assert sorted(report["knees"]) == [str(n) for n in ci.replica_counts]
    for knee in report["knees"].values():
        assert len(knee["trials"]) == ci.trials  # every replica count, every trial
        for step in knee["steps"]:  # the generator's and the machine's side were measured
            assert step["load"]["intended"] > 0 and step["load"]["others_cores"] is not None
            assert step["load"]["generator_cpu"] is not None
    assert report["answers"]["knee_per_replica_rps"] >= ci.min_rps / max(ci.replica_counts)
    assert report["run"]["wall_s"] > 0 and "load average" in report["run"]["machine_note"]
    assert report["headline"]["alerts"][0].startswith("No headroom")
    assert report["startup_s"] > 0
    if report["run"]["busy_steps"] * 2 < report["run"]["steps"]:
        assert report["local_spike"]["predicted_scale_time_s"] is not None
    else:  # a busy machine's knee can be too low for the local spike ever to recover: said so
        assert report["local_spike"]["predicted_scale_time_s"] is not None or any(
            "local spike not predicted to recover" in p for p in report["problems"]
        )
    assert "knee" in done.stdout and "local spike scale time" in done.stdout


def test_spike_adds_replicas_that_join_the_balancer_and_take_traffic(capacity: Any) -> None:
    _, out = capacity
    events = read_events(spike_dir(out) / "events.jsonl")
    peak = next(e for e in events if e.kind == "load.step" and e.detail["rate"] == 450)
    ups = [
        e
        for e in events
        if e.kind == "scale.decision" and e.detail["desired"] > e.detail["current"]
    ]
    assert ups and ups[0].t_mono > peak.t_mono
    started = [e.detail["replica"] for e in events if e.kind == "replica.started"]
    ready = {e.detail["replica"]: e for e in events if e.kind == "replica.ready"}
    assert started and set(started) <= set(ready)
    assert all(ready[n].detail["startup_s"] > 0 for n in started)
    # the load went only through the region's HAProxy: what a new replica served, it got there
    served = next(e.detail["served_requests"] for e in events if "served_requests" in e.detail)
    for name in started:
        assert served[name] > 0, f"{name} served nothing: {served}"


def test_scale_time_is_measured_and_recorded(capacity: Any) -> None:
    _, out = capacity
    local = json.loads((out / "capacity.json").read_text())["local_spike"]
    # [seconds after the step, requested, ready]: the new replicas all became ready
    top = max(req for _, req, _ in local["observed_replicas"])
    assert top > SPEC.min_replicas
    all_ready = [t for t, req, rdy in local["observed_replicas"] if req == rdy == top]
    assert all_ready and 0 < all_ready[0] < PLAN.spike.hold_s
    assert local["observed_scale_time_s"] is not None or local["observed_reason"]


def test_replicas_come_down_no_faster_than_the_policy(capacity: Any) -> None:
    _, out = capacity
    run = spike_dir(out)
    events = read_events(run / "events.jsonl")
    load_end = max(t for t, _ in load_cells(run / "load-surge")) + 1
    downs = [
        e
        for e in events
        if e.kind == "scale.decision" and e.detail["desired"] < e.detail["current"]
    ]
    assert downs, "no scale-down within the spike's after phase"
    k = PLAN.time_scale
    window = SPEC.scale_down.stabilization_window_s * k
    # the last high recommendation came at the latest one cycle before the load ended
    assert downs[0].t_wall >= load_end + window - PLAN.period_s
    (policy,) = SPEC.scale_down.policies
    assert policy.type == "Percent"
    period = policy.period_s * k
    # The policy's period (6 s here) is exactly 4 cycles: the HPA may scale down again on the
    # 4th cycle (its clock is the cycle's start), but the events' times also carry each cycle's
    # query time, so two allowed decisions can be recorded 5.99 s apart. Half a cycle of slack
    # keeps that boundary out and still catches a second removal one cycle (1.5 s) later.
    slack = PLAN.period_s / 2
    for d in downs:
        before = [x for x in downs if d.t_mono - period + slack < x.t_mono <= d.t_mono]
        start = before[0].detail["current"]
        removed = sum(x.detail["current"] - x.detail["desired"] for x in before)
        assert removed <= start - int(start * (1 - policy.value / 100))
    assert min(d.detail["desired"] for d in downs) >= SPEC.min_replicas

"""`gameday run` on the real stack: complete run folders, evidence the fault happened,
the stack restored afterwards, Ctrl-C mid-run, and a negative control whose breach is detected."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bedrock.runfolder.events import read_events
from stack.control import Stack
from stack.ledger_truth import ledger_truth

from ..conftest import REPO
from .conftest import wait_until

pytestmark = pytest.mark.integration

CONTRACT = [
    "run.json",
    "probes.jsonl",
    "events.jsonl",
    "ledger.jsonl",
    "readback.json",
    "journal.json",
    "metrics.json",
    "results.json",
    "report.md",
    "report.html",
    "junit.xml",
]


def gameday_run(
    stack: Stack, runs: Path, *args: str, timeout: float = 400
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gameday",
            "run",
            *args,
            "--profile",
            "ci",
            "--state-dir",
            str(stack.root),
            "--runs-dir",
            str(runs),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def only_run(runs: Path) -> Path:
    [run_dir] = [p for p in runs.iterdir() if p.is_dir()]
    return run_dir


def events(run_dir: Path, kind: str) -> list[dict]:
    return [e.as_dict() for e in read_events(run_dir) if e.kind == kind]


def assert_stack_home(stack: Stack) -> None:
    wait_until(lambda: stack.edge_active_regions() == ["primary"], 60, "edge back on primary")
    wait_until(lambda: stack.db_leader() == "pg-primary", 60, "database leader back on pg-primary")
    wait_until(
        lambda: all(p.state == "RUNNING" for p in stack.processes(check_health=False)),
        60,
        "all running",
    )
    wait_until(
        lambda: stack.ready_replicas("primary") == stack.replicas("primary"), 60, "replicas ready"
    )


def assert_complete(run_dir: Path) -> dict:
    missing = [name for name in CONTRACT if not (run_dir / name).exists()]
    assert missing == [], f"missing from {run_dir}: {missing}"
    assert list((run_dir / "requests").glob("*.jsonl")), "no request histograms"
    run = json.loads((run_dir / "run.json").read_text())
    assert run["ended_wall"] > run["started_wall"]
    # The Patroni that runs (its REST API), not the one on PATH: the stack runs 4.x.
    assert run["versions"]["patroni"].startswith("patroni 4."), run["versions"]
    # What the stack logged during the run, e.g. the API's access log or Patroni's loop.
    assert list((run_dir / "stack-logs").glob("*.log")), "no stack log slices"
    return json.loads((run_dir / "results.json").read_text())


def test_kill_region_run(healthy_stack: Stack, tmp_path: Path) -> None:
    result = gameday_run(healthy_stack, tmp_path, "kill-region", "--load", "constant")
    run_dir = only_run(tmp_path)
    results = assert_complete(run_dir)
    assert events(run_dir, "fault.injected")[0]["detail"]["target"] == "region:primary"
    switched = events(run_dir, "failover.traffic_switched")
    assert switched and switched[0]["detail"]["target"] == "secondary", (
        "the controller switched the edge"
    )
    acted = {
        e["detail"].get("by")
        for e in (x.as_dict() for x in read_events(run_dir))
        if e["kind"].startswith("failover.") and e["detail"].get("by")
    }
    assert len(acted) == 1, f"exactly one controller acts, saw {acted}"
    changes = events(run_dir, "db.leader_changed")
    assert any(c["detail"]["new"] == "pg-secondary" for c in changes), (
        "Patroni promoted the secondary"
    )
    assert_promoted_before_rollback(run_dir)
    slos = {s["id"]: s for s in results["slos"]}
    assert slos["failover"]["status"] == "pass", slos["failover"]["message"]
    assert 1.0 < slos["failover"]["value"] < 30.0
    assert slos["rpo"]["status"] in ("pass", "fail")  # measured, not missing
    assert slos["durability"]["status"] in ("pass", "fail")
    # the load covers every phase to its planned end, however long the rollback took
    phases = {p["name"]: p for p in results["measurements"]["phases"]}
    for name in ("baseline", "fault", "recovery"):
        assert phases[name]["coverage"] >= 0.8, phases[name]
    assert phases["recovery"]["seconds_with_traffic"] >= 8, phases["recovery"]
    assert result.returncode in (0, 1), result.stdout[-2000:]
    assert_keeps_every_acknowledged_write(healthy_stack, run_dir)
    assert_stack_home(healthy_stack)


def assert_promoted_before_rollback(run_dir: Path) -> None:
    """The secondary led before the region came back (else the run tested nothing)."""
    run = json.loads((run_dir / "run.json").read_text())
    [fault] = events(run_dir, "fault.injected")
    back = fault["t_wall"] + run["windows_s"]["fault"]
    promoted = [
        c["t_wall"]
        for c in events(run_dir, "db.leader_changed")
        if c["detail"]["new"] == "pg-secondary"
    ]
    assert promoted and promoted[0] < back, (
        f"pg-secondary promoted at {promoted}, region back {back}"
    )


def assert_keeps_every_acknowledged_write(stack: Stack, run_dir: Path) -> None:
    """Database truth: every acknowledged ledger write is on the leader (SQL), not the suite's count."""
    truth = ledger_truth(run_dir, list(stack.handles["patroni_urls"].values()))
    assert truth.acknowledged > 0, "no acknowledged write to check"
    assert truth.lost == [], f"{len(truth.lost)} acknowledged writes lost on {truth.leader}"


def test_freeze_region_run_keeps_every_acknowledged_write(
    healthy_stack: Stack, tmp_path: Path
) -> None:
    """Issue 12: a thawed region must not demote the promoted secondary (Patroni 4)."""
    result = gameday_run(healthy_stack, tmp_path, "freeze-region", "--load", "constant")
    run_dir = only_run(tmp_path)
    assert_complete(run_dir)
    assert_promoted_before_rollback(run_dir)
    assert_keeps_every_acknowledged_write(healthy_stack, run_dir)
    assert result.returncode in (0, 1), result.stdout[-2000:]
    assert_stack_home(healthy_stack)


def test_add_latency_breach_is_detected(healthy_stack: Stack, tmp_path: Path) -> None:
    result = gameday_run(healthy_stack, tmp_path, "add-latency", "--load", "constant")
    run_dir = only_run(tmp_path)
    results = assert_complete(run_dir)
    fault_p95 = next(s for s in results["slos"] if s["id"] == "latency.fault.p95")
    assert fault_p95["status"] == "fail" and fault_p95["value"] > 200, fault_p95["message"]
    assert result.returncode == 0, "a negative control passes when its breach is detected"
    assert "negative control" in results["verdict"]["summary"]
    assert_stack_home(healthy_stack)


def test_sigint_mid_run_restores_the_stack(healthy_stack: Stack, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gameday",
            "run",
            "kill-region",
            "--load",
            "constant",
            "--profile",
            "ci",
            "--state-dir",
            str(healthy_stack.root),
            "--runs-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        run_dir = wait_until(lambda: next(iter(tmp_path.iterdir()), None), 60, "run folder created")
        wait_until(lambda: events(run_dir, "fault.injected"), 90, "fault injected")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=400)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (1, 3), out[-2000:]  # a breach seen before the abort still counts
    assert "rollbacks run" in out
    run = json.loads((run_dir / "run.json").read_text())
    assert run["aborted"] and "Ctrl-C" in run["aborted"]
    assert (run_dir / "report.md").exists() and (run_dir / "results.json").exists()
    assert events(run_dir, "abort")
    assert_stack_home(healthy_stack)
    leftovers = [
        p
        for p in os.popen("ps -eo pid,args").read().splitlines()
        if str(run_dir) in p and ("locust" in p or "loadtests" in p or "chaos" in p)
    ]
    assert leftovers == [], leftovers


def test_kill_failover_controller_run(healthy_stack: Stack, tmp_path: Path) -> None:
    """The leading controller dies mid-failover; the other takes the lock and finishes it."""
    result = gameday_run(healthy_stack, tmp_path, "kill-failover-controller", "--load", "constant")
    run_dir = only_run(tmp_path)
    assert_complete(run_dir)
    killed = [
        e
        for e in events(run_dir, "fault.injected")
        if e["detail"]["target"].startswith("controller:")
    ]
    assert killed, "the leading controller was killed"
    killed_identity = killed[0]["detail"]["target"].split(":", 1)[1]
    completed = events(run_dir, "failover.completed")
    assert completed, f"no failover completed: {result.stdout[-1500:]}"
    assert completed[0]["detail"]["by"] != killed_identity
    assert completed[0]["detail"]["target"] == "secondary"
    assert_stack_home(healthy_stack)

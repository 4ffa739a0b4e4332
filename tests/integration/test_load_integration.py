"""Short real runs: Locust in its own process against an in-memory reference API on 127.0.6.x.

The server (tests/support/load_api_server.py) speaks real HTTP; each scenario runs its `ci` profile
shrunk to a few seconds with `time_scale`. Waits poll conditions with deadlines.

Against the real stack instead: GAMEDAY_LOAD_ENTRY_URL=http://127.0.9.1:8080 runs the
scenario tests at the full `ci` profile (~2.5 min for the four) through that entry point and
skips the tests that need the stand-in's fault switch (/_admin).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loadtests import probes, runner
from loadtests.histograms import load_cells, merge
from loadtests.readback import write_readback
from loadtests.stages import scaled_stages, total_duration_s
from tests.support.ports import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
ENTRY_URL = os.environ.get("GAMEDAY_LOAD_ENTRY_URL")
needs_stand_in = pytest.mark.skipif(bool(ENTRY_URL), reason="needs the stand-in's /_admin switch")
SERVER_ADDR = "127.0.6.2"
API_ENDPOINTS = {"GET /items/{id}", "POST /items", "GET /health", "POST /ledger"}


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[str]:
    if ENTRY_URL:
        yield ENTRY_URL
        return
    port = free_port(SERVER_ADDR)
    log = open(tmp_path_factory.mktemp("api") / "api.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "support" / "load_api_server.py"),
            "--host",
            SERVER_ADDR,
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://{SERVER_ADDR}:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, 20, "the test API")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def admin(url: str, **kw) -> None:
    httpx.post(f"{url}/_admin", json=kw, timeout=2).raise_for_status()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def stored_seqs(url: str, client: str) -> set[int]:
    r = httpx.get(
        f"{url}/ledger", params={"client": client, "after": 0, "limit": 100000}, timeout=5
    )
    return set(r.json()["seqs"])


@pytest.mark.parametrize("scenario", ["progressive", "spike", "stress", "endurance"])
def test_ci_run_of_each_shape_records_histograms_outcomes_and_ledger(
    api, tmp_path, scenario
) -> None:
    scale = 1.0 if ENTRY_URL else 5.0 / total_duration_s(scaled_stages(scenario, "ci"))
    run_dir = tmp_path / f"run-{scenario}"
    handle = runner.start(scenario, "ci", api, run_dir, time_scale=scale)
    assert handle.wait(handle.planned_s + 60) == 0, (run_dir / "load.log").read_text()[-2000:]
    cells = load_cells(run_dir)
    # GET /health (5 %) and POST /items (10 %) may not come up in a 5 s run of ~30 requests;
    # reads (85 %) and the ledger writer always do (the mix: loadtests.users.pick_request).
    endpoints = {ep for _, ep in cells}
    assert {"GET /items/{id}", "POST /ledger"} <= endpoints <= API_ENDPOINTS, endpoints
    total = merge(cells)
    assert total.sent > 20 and total.outcomes == {"ok": total.sent}
    assert total.hist.get_total_count() == total.sent
    assert 0 < total.percentile_ms(95) < 5000
    ledger = read_jsonl(run_dir / "ledger.jsonl")
    acked = {x["seq"] for x in ledger if x["outcome"] == "acknowledged"}
    assert len(acked) == len(ledger) > 5
    assert acked <= stored_seqs(api, run_dir.name)  # every acknowledged write is stored
    doc = write_readback(run_dir, api)
    assert doc["client"] == run_dir.name
    (first, last), *gaps = doc["present_ranges"]
    assert first == 1 and last >= max(acked) and not gaps  # no gap, no loss
    steps = [e for e in read_jsonl(run_dir / "events.jsonl") if e["kind"] == "load.step"]
    assert [e["detail"]["users"] for e in steps] == sorted(
        {s.users for s in scaled_stages(scenario, "ci")}
    )


def test_open_model_two_processes_split_the_rate_and_report_achieved(api, tmp_path) -> None:
    run_dir = tmp_path / "open"
    handle = runner.start(
        "constant",
        "ci",
        api,
        run_dir,
        time_scale=0.2,
        open_rate_rps=100.0,
        processes=2,
        ledger_rate_rps=0,
    )
    assert handle.wait(90) == 0, (run_dir / "load.log").read_text()[-2000:]
    reports = [
        e["detail"] for e in read_jsonl(run_dir / "events.jsonl") if e["kind"] == "load.open_model"
    ]
    assert sorted(r["lane"] for r in reports) == [0, 1]
    target = sum(r["target_requests"] for r in reports)
    assert 580 <= target <= 600  # 100 req/s over 6 s, after a 0.05 s ramp
    assert all(r["sent"] + r["late"] == r["target_requests"] for r in reports)
    files = list((run_dir / "requests").glob("*.jsonl"))
    assert len(files) == 2  # one writer per worker process
    total = merge(load_cells(run_dir))
    assert total.sent == sum(r["sent"] for r in reports)
    assert total.outcomes.get("late", 0) == sum(r["late"] for r in reports)
    gens = [
        e["detail"] for e in read_jsonl(run_dir / "events.jsonl") if e["kind"] == "load.generator"
    ]
    assert len(gens) == 2  # one per recording process, with its CPU use
    assert sum(g["requests"] for g in gens) == target
    assert all(g["cpu_s"] > 0 and g["runqueue_wait_s"] is not None for g in gens)


@needs_stand_in
def test_failures_and_timeouts_are_recorded_as_outcomes(api, tmp_path) -> None:
    run_dir = tmp_path / "faults"
    admin(api, fail_status=503)
    try:
        handle = runner.start("spike", "ci", api, run_dir, time_scale=0.2, request_timeout_s=0.3)
        wait_for(
            lambda: (
                (run_dir / "ledger.jsonl").exists()
                and len(read_jsonl(run_dir / "ledger.jsonl")) >= 10
            ),
            30,
            "503 ledger lines",
        )
        admin(api, fail_status=None, delay_ms=600)
        assert handle.wait(60) == 0
    finally:
        admin(api, fail_status=None, delay_ms=0)
    total = merge(load_cells(run_dir))
    assert total.outcomes.get("http_503", 0) > 0
    assert total.outcomes.get("timeout", 0) > 0
    outcomes = {x["outcome"] for x in read_jsonl(run_dir / "ledger.jsonl")}
    assert {"failed", "indeterminate"} <= outcomes


def test_stop_ends_a_long_run_cleanly_with_data_on_disk(api, tmp_path) -> None:
    run_dir = tmp_path / "stopped"
    handle = runner.start("endurance", "ci", api, run_dir)  # 60 s planned
    wait_for(lambda: any((run_dir / "requests").glob("*.jsonl")), 30, "first flush")
    t0 = time.monotonic()
    handle.stop(timeout=15)
    assert not handle.running and time.monotonic() - t0 < 15
    assert merge(load_cells(run_dir)).sent > 0
    assert all(x["outcome"] for x in read_jsonl(run_dir / "ledger.jsonl"))


def test_prober_probes_on_schedule_and_stops_on_sigterm(api, tmp_path) -> None:
    handle = probes.start(api, tmp_path, rate_rps=20, duration_s=60)
    path = tmp_path / "probes.jsonl"
    wait_for(lambda: path.exists() and len(path.read_text().splitlines()) >= 40, 30, "40 probes")
    assert handle.stop(timeout=5) == 0
    lines = read_jsonl(path)
    assert {x["kind"] for x in lines} == {"read", "write", "health"}
    assert {x["region"] for x in lines} == {"primary"}
    assert {x["outcome"] for x in lines} == {"ok"}
    starts = sorted(x["t_mono"] for x in lines)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps == pytest.approx([0.05] * len(gaps), abs=1e-6)  # intended times, 20/s
    assert "probes: done" in (tmp_path / "probes.log").read_text()


@needs_stand_in
def test_prober_records_timeouts_with_no_latency(api, tmp_path) -> None:
    admin(api, delay_ms=800)
    try:
        handle = probes.start(api, tmp_path, rate_rps=10, duration_s=2, timeout_s=0.3)
        assert handle.wait(30) == 0
    finally:
        admin(api, delay_ms=0)
    lines = [x for x in read_jsonl(tmp_path / "probes.jsonl") if x["kind"] != "health"]
    assert len(lines) >= 15
    assert {x["outcome"] for x in lines} == {"timeout"}
    assert all(x["latency_s"] is None for x in lines)


def test_cli_runs_a_scenario_and_refuses_foreign_hosts(api, tmp_path) -> None:
    run_dir = tmp_path / "cli"
    cmd = [sys.executable, "-m", "gameday", "load", "spike", "--profile", "ci", "--host", api]
    res = subprocess.run(
        [*cmd, "--run-dir", str(run_dir), "--time-scale", "0.2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert res.returncode == 0, res.stderr
    assert '"ALL"' in res.stdout and '"p95_ms"' in res.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "gameday",
            "load",
            "spike",
            "--host",
            "http://10.1.2.3:80",
            "--run-dir",
            str(tmp_path / "x"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "--allow-host" in bad.stderr


def test_master_and_two_workers_merge_and_split_the_open_rate(api, tmp_path) -> None:
    run_dir = tmp_path / "distributed"
    master_addr = ("127.0.6.4", free_port("127.0.6.4"))
    common = {"time_scale": 0.2, "open_rate_rps": 60.0, "ledger_rate_rps": 5.0}
    master = runner.start(
        "constant", "ci", api, run_dir, master_bind=master_addr, expect_workers=2, **common
    )
    workers = [
        runner.start_worker("constant", "ci", run_dir, master_addr, open_lanes=2, **common)
        for _ in range(2)
    ]
    try:
        assert master.wait(90) == 0, (run_dir / "load.log").read_text()[-2000:]
        for w in workers:
            w.wait(30)
    finally:
        for h in (master, *workers):
            h.stop(5)
    reports = [
        e["detail"] for e in read_jsonl(run_dir / "events.jsonl") if e["kind"] == "load.open_model"
    ]
    assert sorted(r["lane"] for r in reports) == [0, 1]
    assert len(list((run_dir / "requests").glob("*.jsonl"))) == 2
    cells = load_cells(run_dir)
    opened = (
        merge(cells, endpoint="GET /items/{id}").sent + merge(cells, endpoint="POST /items").sent
    )
    opened += merge(cells, endpoint="GET /health").sent
    assert opened == sum(r["sent"] for r in reports) > 300
    ledger = read_jsonl(run_dir / "ledger.jsonl")
    assert len({x["seq"] for x in ledger}) == len(ledger) > 5  # one ledger user, unique seqs


def test_cli_open_model_reports_achieved_vs_target(api, tmp_path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "gameday",
        "load",
        "constant",
        "--host",
        api,
        "--run-dir",
        str(tmp_path),
    ]
    res = subprocess.run(
        [*cmd, "--open-model", "--rate", "80", "--time-scale", "0.2", "--ledger-rate", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert res.returncode == 0, res.stderr
    assert "open model: 1/1 lanes reported" in res.stdout and "achieved/target" in res.stdout
    no_rate = subprocess.run(
        [*cmd, "--open-model"], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert no_rate.returncode == 2 and "--rate" in no_rate.stderr


@needs_stand_in
def test_open_model_keeps_its_rate_when_the_target_slows(api, tmp_path) -> None:
    """No coordinated omission: 300 ms answers do not lower the offered rate, and latency
    counts from the intended time (so it is at least the injected delay)."""
    run_dir = tmp_path / "slow"
    admin(api, delay_ms=300)
    try:
        handle = runner.start(
            "constant", "ci", api, run_dir, time_scale=0.2, open_rate_rps=100.0, ledger_rate_rps=0
        )
        assert handle.wait(90) == 0
    finally:
        admin(api, delay_ms=0)
    (report,) = [
        e["detail"] for e in read_jsonl(run_dir / "events.jsonl") if e["kind"] == "load.open_model"
    ]
    assert report["late"] == 0 and report["sent"] == report["target_requests"]
    total = merge(load_cells(run_dir))
    assert total.sent == report["sent"] and total.ok == total.sent
    assert total.percentile_ms(50) >= 300  # ~30 in flight: senders grew past MIN_SENDERS


def test_plain_locust_refuses_a_foreign_host(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GAMEDAY_RUN_DIR": str(tmp_path)}
    env.pop("GAMEDAY_ALLOW_HOSTS", None)
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests/scenarios/spike.py")]
    res = subprocess.run(
        [*cmd, "--headless", "--host", "http://10.2.3.4:80"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert res.returncode == 2 and "not loopback" in res.stderr
    assert not (tmp_path / "requests").exists()

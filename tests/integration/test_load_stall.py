"""Latency that shows a stall: a real target that stalls for 3 s during the fault phase must
push the fault phase's p99 above 1 s in the open model (DESIGN.md "latency under faults").

The target is a real HTTP server in this process (a thread per request) on 127.0.0.1 and a
free port; requests arriving in the stall window are held until it ends. The load is the
real Locust open model in its own process. The phase marks are written as the orchestration
writes them; the run folder is judged by slo.evaluate. Also checks that stopping the load
(SIGTERM) keeps its last seconds: the recovery phase is loaded to its end.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from loadtests import runner
from slo.evaluation import evaluate
from slo.spec import SloSpec

STALL_AT_S, STALL_S = 4.0, 3.0  # after the load started
FAULT_FROM_S, RECOVERY_FROM_S, END_S = 3.0, 9.0, 12.0


class _Stalling(ThreadingHTTPServer):
    daemon_threads = True
    stall_from = float("inf")

    def hold(self) -> None:
        now = time.time()
        if self.stall_from <= now < self.stall_from + STALL_S:
            time.sleep(self.stall_from + STALL_S - now)


class _Handler(BaseHTTPRequestHandler):
    server: _Stalling

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.server.hold()
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def target() -> Iterator[_Stalling]:
    server = _Stalling(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _event(run_dir: Path, t_wall: float, kind: str, **detail: object) -> None:
    line = {"t_wall": t_wall, "t_mono": t_wall, "kind": kind, "source": "test", "detail": detail}
    with open(run_dir / "events.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


def test_a_3_s_stall_shows_in_the_fault_p99_open_model(target: _Stalling, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{target.server_address[1]}"
    started = time.time()
    load = runner.start(
        "constant",
        "ci",
        url,
        tmp_path,
        open_rate_rps=40.0,
        time_scale=0.5,  # 15 s of constant rate; the test stops it at END_S
        ledger_rate_rps=0,
        mix="static",
    )
    try:
        runner.wait_started(load, tmp_path)
        t0 = time.time()
        target.stall_from = t0 + STALL_AT_S
        _event(tmp_path, t0, "phase", name="baseline")
        _event(tmp_path, t0 + FAULT_FROM_S, "phase", name="fault")
        _event(tmp_path, t0 + RECOVERY_FROM_S, "phase", name="recovery")
        while time.time() < t0 + END_S:  # bounded: END_S after the load started
            assert load.running, (tmp_path / "load.log").read_text()
            time.sleep(0.1)
    finally:
        load.stop(15)
    windows = {"baseline": FAULT_FROM_S, "fault": 6.0, "recovery": END_S - RECOVERY_FROM_S}
    (tmp_path / "run.json").write_text(
        json.dumps(
            {
                "schema": "gameday.run/1",
                "name": "stall",
                "experiment": None,
                "started_wall": started,
                "ended_wall": time.time(),
                "windows_s": windows,
            }
        )
    )
    spec = SloSpec(latency={"fault": ["p99 < 1s"], "recovery": ["p95 < 100ms"]})
    results = evaluate(tmp_path, spec)
    fault = next(p for p in results.measurements.phases if p.name == "fault")
    assert fault.all.p99_ms is not None and fault.all.p99_ms > 1000.0, fault
    # the stall's requests are in the histograms at the time they took: up to ~3 s
    assert fault.all.max_ms is not None and 2000.0 < fault.all.max_ms < 4000.0
    assert results.slo("latency.fault.p99").status == "fail"
    # the load was stopped (SIGTERM) right after the recovery phase's planned end: its last
    # seconds reached the disk, so the phase is judged over (nearly) all of its 3 s
    recovery = next(p for p in results.measurements.phases if p.name == "recovery")
    assert recovery.planned_s == 3
    assert recovery.seconds_with_traffic >= 2

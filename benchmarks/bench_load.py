"""Benchmark the load generator: capacity per process beside wrk, and open-model accuracy.

    /work/venv/bin/python benchmarks/bench_load.py [--seconds 8] [--fractions 0.2,0.4,0.6,0.8,1.0]

Serves a constant body with HAProxy (`http-request return`, one thread) on 127.0.6.10, so the
target is far faster than the generator. In the same run it measures:
1. wrk (1 thread, 50 connections) on GET /static: what the machine can drive;
2. Locust, 1 process, closed model, unpaced users on GET /static: req/s per process (and
   plain Locust without our recording, for the overhead);
3. Locust, 1 process, open model far above capacity: the open model's capacity (sent/s);
4. open-model accuracy at fractions of the closed-model capacity (2.): achieved/target (sent / due arrivals),
   late count, and p50/p99 latency from the intended send time (our histograms).
Prints figures; asserts nothing (a speed goal, not a test). Numbers depend on what else runs
on the machine: each run's `load.generator` event gives its CPU use and the time it waited for
a CPU (runqueue), printed beside the figures, and requests per CPU-second are contention-free.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bedrock.runfolder import events  # noqa: E402
from loadtests import runner  # noqa: E402
from loadtests.histograms import load_cells, merge  # noqa: E402
from loadtests.stages import scaled_stages, total_duration_s  # noqa: E402

ADDR = "127.0.6.10"

HAPROXY_CFG = """
global
    nbthread 1
    maxconn 5000
defaults
    mode http
    timeout client 30s
    timeout server 30s
    timeout connect 5s
frontend static
    bind {addr}:{port}
    http-request return status 200 content-type text/plain string "ok" hdr X-Region bench
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((ADDR, 0))
        return int(s.getsockname()[1])


def start_haproxy(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cfg = workdir / "haproxy.cfg"
    cfg.write_text(HAPROXY_CFG.format(addr=ADDR, port=port))
    proc = subprocess.Popen(
        ["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://{ADDR}:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((ADDR, port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("haproxy did not start")


def run_wrk(url: str, seconds: float) -> float:
    out = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{int(seconds)}s", f"{url}/static"],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else float("nan")


PLAIN_LOCUSTFILE = """
from locust import FastHttpUser, task
class PlainStatic(FastHttpUser):
    @task
    def static(self):
        self.client.get("/static")
"""


def run_plain_locust(url: str, workdir: Path, seconds: float) -> float:
    """Locust without our recording (its own stats only): the overhead baseline."""
    lf = workdir / "plain_locustfile.py"
    lf.write_text(PLAIN_LOCUSTFILE)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(lf),
            "--headless",
            "-u",
            "20",
            "-r",
            "20",
            "-t",
            f"{int(seconds)}s",
            "--host",
            url,
            "--only-summary",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    for line in (out.stdout + out.stderr).splitlines():
        if line.strip().startswith("Aggregated") and line.count("|") == 2:
            return float(line.split("|")[-1].split()[0])
    return float("nan")


def time_scale_for(scenario: str, profile: str, seconds: float) -> float:
    return seconds / total_duration_s(scaled_stages(scenario, profile))


def steady_rate(run_dir: Path) -> tuple[float, int, int, float | None, float | None]:
    """Sent req/s over full seconds (first and last dropped), total sent, late, p50/p99 ms."""
    cells = load_cells(run_dir)
    seconds = sorted({t for t, _ in cells})
    inner = seconds[1:-1] or seconds
    core = merge(cells, t_from=inner[0], t_to=inner[-1] + 1)
    total = merge(cells)
    return (
        core.sent / max(1, len(inner)),
        total.sent,
        total.outcomes.get("late", 0),
        total.percentile_ms(50),
        total.percentile_ms(99),
    )


def run_locust(url: str, workdir: Path, name: str, seconds: float, **kw: object) -> Path:
    run_dir = workdir / name
    profile = str(kw.pop("profile", "ci"))
    handle = runner.start(
        "constant",
        profile,
        url,
        run_dir,
        time_scale=time_scale_for("constant", profile, seconds),
        ledger_rate_rps=0,
        mix="static",
        request_timeout_s=2.0,
        **kw,  # type: ignore[arg-type]
    )
    handle.wait(seconds + 60)
    return run_dir


def generator(run_dir: Path) -> dict[str, float]:
    """Summed `load.generator` events: requests, CPU seconds, wall, runqueue wait."""
    gens = [e.detail for e in events.events_of_kind(run_dir, events.LOAD_GENERATOR)]
    return {
        "requests": sum(g["requests"] for g in gens),
        "cpu_s": sum(g["cpu_s"] for g in gens),
        "wall_s": max((g["wall_s"] for g in gens), default=0.0),
        "runq_s": sum(g["runqueue_wait_s"] or 0.0 for g in gens),
    }


def per_cpu_s(gen: dict[str, float]) -> float:
    return gen["requests"] / gen["cpu_s"] if gen["cpu_s"] else float("nan")


def open_reports(run_dir: Path) -> dict[str, float]:
    rep = [e.detail for e in events.events_of_kind(run_dir, events.LOAD_OPEN_MODEL)]
    return {
        "target": sum(r["target_requests"] for r in rep),
        "sent": sum(r["sent"] for r in rep),
        "late": sum(r["late"] for r in rep),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--fractions", default="0.2,0.4,0.6,0.8,1.0")
    ap.add_argument("--repeat", type=int, default=1, help="runs per fraction (noisy machines)")
    args = ap.parse_args()
    if not shutil.which("wrk") or not shutil.which("haproxy"):
        raise SystemExit("needs wrk and haproxy (Debian packages)")
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    haproxy, url = start_haproxy(workdir)
    try:
        print(
            f"target: HAProxy static on {url}; load average {os.getloadavg()[0]:.2f}; cores {os.cpu_count()}"
        )
        wrk_rps = run_wrk(url, args.seconds)
        print(f"wrk  1 thread, 50 conns          : {wrk_rps:10.0f} req/s")
        plain = run_plain_locust(url, workdir, args.seconds)
        print(f"locust plain (no recording), 20u : {plain:10.0f} req/s  (whole run incl. ramp)")
        closed = run_locust(
            url, workdir, "closed", args.seconds, profile="nightly", user_pacing_s=0.0
        )
        c_rate, c_sent, _, c50, c99 = steady_rate(closed)
        c_gen = generator(closed)
        print(
            f"locust closed, 1 proc, 20 users  : {c_rate:10.0f} req/s  (p50 {c50:.2f} ms, p99 {c99:.2f} ms)"
        )
        over = run_locust(
            url, workdir, "open-over", args.seconds, open_rate_rps=max(30000.0, 3 * c_rate)
        )
        o_rate, _, o_late, _, _ = steady_rate(over)
        o_gen = generator(over)
        capacity = c_rate  # the generator's capacity: closed model, unpaced, one process
        print(f"locust open,   1 proc, saturated : {o_rate:10.0f} req/s sent  ({o_late} late)")
        print(f"locust/wrk (closed)              : {c_rate / wrk_rps:10.2f}")
        print(
            f"per CPU-second (contention-free)  : closed {per_cpu_s(c_gen):.0f} req, "
            f"open {(o_gen['requests'] - o_late) / o_gen['cpu_s'] if o_gen['cpu_s'] else 0:.0f} req sent; "
            f"closed run waited {c_gen['runq_s']:.1f} s of {c_gen['wall_s']:.1f} s for a CPU"
        )
        print("open-model accuracy (1 process): fraction of closed capacity -> achieved/target")
        print(
            "  fraction  target/s   achieved/target  late   p50 ms   p99 ms  cpu_util  cpu_wait/wall  (latency from intended time)"
        )
        for frac in [float(x) for x in args.fractions.split(",")]:
            rate = round(capacity * frac)
            for rep_no in range(args.repeat):
                name = f"open-{frac}-{rep_no}"
                run_dir = run_locust(url, workdir, name, args.seconds, open_rate_rps=float(rate))
                rep = open_reports(run_dir)
                _, _, late, p50, p99 = steady_rate(run_dir)
                ratio = rep["sent"] / rep["target"] if rep["target"] else float("nan")
                gen = generator(run_dir)
                util = gen["cpu_s"] / gen["wall_s"] if gen["wall_s"] else float("nan")
                wait = gen["runq_s"] / gen["wall_s"] if gen["wall_s"] else float("nan")
                print(
                    f"  {frac:8.2f}  {rate:8d}   {ratio:15.4f}  {int(rep['late']):5d}  {p50 or 0:7.2f}"
                    f"  {p99 or 0:7.2f}  {util:8.2f}  {wait:13.2f}",
                    flush=True,
                )
        print(f"load average after: {os.getloadavg()[0]:.2f}; raw runs in {workdir}")
    finally:
        haproxy.terminate()
        haproxy.wait(10)


if __name__ == "__main__":
    main()

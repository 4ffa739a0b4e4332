"""The entry-point prober: client-view probes -> `probes.jsonl` (docs/run-folder.md).

    python -m loadtests.probes --host http://127.0.9.1:8080 --run-dir DIR --rate 20 --duration 300

Its own process (asyncio + httpx, no Locust). Probes go out on a fixed schedule (open model:
probe k is due at start + k/rate, whatever earlier probes do), so a hung entry point cannot
slow the probing; each line carries the *intended* send time and the latency measured from
it, the outcome and the `X-Region` header. Kinds cycle read (GET /items/{id}), write
(POST /items), with a health probe every 10th. Short timeouts (default 1 s), a bounded
duration, at most `max_in_flight` probes waiting (beyond that a probe is recorded as
`conn_error` with `"late": true`, never silently skipped). SIGTERM/SIGINT stop it cleanly:
no new probes, in-flight ones get their timeout, every line is on disk, exit 0.
`start(...)` runs it as a child process and returns a `ProcessHandle`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bedrock import options
from bedrock.errors import GamedayError, InputError
from bedrock.runfolder.probes import ProbeWriter
from loadtests.recorder import OUTCOME_CONN_ERROR, OUTCOME_TIMEOUT, outcome_for_status
from loadtests.runner import ProcessHandle, spawn
from loadtests.safety import MAX_DURATION_S, check_host

MIN_RATE_RPS = 10.0  # DESIGN.md: at least 10 probes per second
MAX_RATE_RPS = 200.0


def probe_kind(k: int) -> str:
    """Probe k's kind: every 10th a health check, otherwise alternating read and write."""
    if k % 10 == 9:
        return "health"
    return "read" if k % 2 == 0 else "write"


def probe_line(
    kind: str,
    t_wall: float,
    t_mono: float,
    latency_s: float | None,
    outcome: str,
    status: int | None,
    region: str | None,
) -> dict[str, Any]:
    return {
        "t_wall": t_wall,
        "t_mono": t_mono,
        "kind": kind,
        "latency_s": latency_s,
        "outcome": outcome,
        "status": status,
        "region": region,
    }


class Prober:
    """Sends probes on schedule until the duration ends or `stop()` is called."""

    def __init__(
        self,
        host: str,
        run_dir: str | os.PathLike[str],
        *,
        rate_rps: float = 20.0,
        duration_s: float = 60.0,
        timeout_s: float = 1.0,
        max_in_flight: int = 200,
    ) -> None:
        self.host = host.rstrip("/")
        self.out = ProbeWriter(run_dir)
        self.rate_rps = rate_rps
        self.duration_s = duration_s
        self.timeout_s = timeout_s
        self.max_in_flight = max_in_flight
        self.counts: dict[str, int] = {}
        self._stop = asyncio.Event()
        self._in_flight = 0

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> dict[str, int]:
        limits = httpx.Limits(max_connections=self.max_in_flight, max_keepalive_connections=20)
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 0.5))
        tasks: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(base_url=self.host, limits=limits, timeout=timeout) as client:
            start = time.monotonic()
            wall0 = time.time() - start
            k = 0
            while not self._stop.is_set():
                due = start + k / self.rate_rps
                if due - start >= self.duration_s:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), max(0.0, due - time.monotonic()))
                    break  # stop requested while waiting
                task = asyncio.create_task(self._probe(client, probe_kind(k), due, wall0 + due))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                k += 1
            if tasks:
                await asyncio.wait(tasks, timeout=self.timeout_s + 1.0)
        self.out.close()
        return self.counts

    async def _probe(
        self, client: httpx.AsyncClient, kind: str, t_mono: float, t_wall: float
    ) -> None:
        if self._in_flight >= self.max_in_flight:
            self._write(
                probe_line(kind, t_wall, t_mono, None, OUTCOME_CONN_ERROR, None, None), late=True
            )
            return
        self._in_flight += 1
        status: int | None = None
        region: str | None = None
        latency: float | None = None
        try:
            if kind == "read":
                resp = await client.get(f"/items/{random.randint(1, 1000)}")
            elif kind == "write":
                resp = await client.post("/items", json={"value": f"probe-{t_wall:.3f}"})
            else:
                resp = await client.get("/health")
            latency = time.monotonic() - t_mono
            status = resp.status_code
            region = resp.headers.get("x-region")
            outcome = outcome_for_status(status)
        except httpx.TimeoutException:
            outcome = OUTCOME_TIMEOUT
        except (httpx.TransportError, OSError):
            outcome = OUTCOME_CONN_ERROR
        finally:
            self._in_flight -= 1
        self._write(probe_line(kind, t_wall, t_mono, latency, outcome, status, region))

    def _write(self, line: dict[str, Any], late: bool = False) -> None:
        if late:
            line["late"] = True
        self.out.append(line)
        self.counts[line["outcome"]] = self.counts.get(line["outcome"], 0) + 1


def check_args(rate_rps: float, duration_s: float, timeout_s: float) -> None:
    if not MIN_RATE_RPS <= rate_rps <= MAX_RATE_RPS:
        raise InputError(
            f"--rate {rate_rps}: must be in [{MIN_RATE_RPS:.0f}, {MAX_RATE_RPS:.0f}] probes/s"
        )
    if not 0 < duration_s <= MAX_DURATION_S:
        raise InputError(f"--duration {duration_s}: must be in (0, {MAX_DURATION_S:.0f}] s")
    if not 0 < timeout_s <= 10:
        raise InputError(f"--timeout {timeout_s}: must be in (0, 10] s")


def start(
    host: str,
    run_dir: str | os.PathLike[str],
    *,
    rate_rps: float = 20.0,
    duration_s: float = 60.0,
    timeout_s: float = 1.0,
    allow_hosts: Sequence[str] = (),
) -> ProcessHandle:
    """Run the prober in its own process; stop it with `.stop(timeout)`."""
    check_host(host, allow_hosts)
    check_args(rate_rps, duration_s, timeout_s)
    run_path = Path(run_dir).resolve()
    run_path.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "loadtests.probes", "--host", host, "--run-dir", str(run_path)]
    argv += ["--rate", str(rate_rps), "--duration", str(duration_s), "--timeout", str(timeout_s)]
    for h in allow_hosts:
        argv += ["--allow-host", h]
    return spawn("probes", argv, {}, run_path / "probes.log", duration_s)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.probes", description=__doc__.split("\n")[0]
    )
    options.add_load_target(parser)
    parser.add_argument("--rate", type=float, default=20.0, help="probes per second (>= 10)")
    parser.add_argument("--duration", type=float, required=True, help="seconds (bounded)")
    parser.add_argument("--timeout", type=float, default=1.0, help="per-probe timeout, s")
    args = parser.parse_args(argv)
    try:
        check_host(args.host, args.allow_host)
        check_args(args.rate, args.duration, args.timeout)
    except GamedayError as exc:
        print(f"probes: {exc}", file=sys.stderr)
        return exc.exit_code
    return asyncio.run(_amain(args))


async def _amain(args: argparse.Namespace) -> int:
    prober = Prober(
        args.host,
        args.run_dir,
        rate_rps=args.rate,
        duration_s=args.duration,
        timeout_s=args.timeout,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, prober.stop)
    counts = await prober.run()
    for sig in (signal.SIGTERM, signal.SIGINT):  # a late second signal must not kill the exit
        loop.remove_signal_handler(sig)
        signal.signal(sig, signal.SIG_IGN)
    print(f"probes: done {counts}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

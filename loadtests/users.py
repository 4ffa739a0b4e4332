"""Locust users for the reference API (docs/reference-api.md). Import only inside Locust.

- `ApiUser`: closed model, paced at `USER_RATE_RPS`: reads of a hot set (cache hits) and of
  all 1..1000 seeded items (misses after writes invalidate), writes, health checks.
- `OpenModelUser`: open model; one lane per worker process sends the arrivals of
  `loadtests.openmodel` on the scenario's rate curve; latency from the intended send time.
- `LedgerUser`: one per run; sequence-numbered `POST /ledger` writes -> `ledger.jsonl`.
Every request is recorded by this process's `RequestRecorder` (flushed every second).
Settings come from GAMEDAY_* variables (`loadtests.settings`); which of ApiUser and
OpenModelUser is active depends on GAMEDAY_OPEN_RATE.
"""

from __future__ import annotations

# isort: off
import locust  # noqa: F401  first: gevent monkey-patching (DESIGN.md)

# isort: on

import os
import random
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import gevent
import gevent.pool
import gevent.queue
from locust import FastHttpUser, constant, constant_pacing, events, task

from bedrock.errors import InputError
from bedrock.runfolder.events import append_event
from bedrock.runfolder.ledger import LedgerWriter, last_seq
from loadtests.ledger import ledger_line
from loadtests.openmodel import ArrivalSchedule, OpenModelScheduler
from loadtests.recorder import (
    OUTCOME_CONN_ERROR,
    OUTCOME_LATE,
    OUTCOME_TIMEOUT,
    RequestRecorder,
    outcome_for_status,
)
from loadtests.safety import check_host
from loadtests.settings import from_env_or_exit
from loadtests.stages import rate_segments

SETTINGS = from_env_or_exit()
RUN_DIR = SETTINGS.resolved_run_dir()
SEEDED_IDS = 1000
HOT_IDS = 100  # the hot set: mostly cache hits
MIN_SENDERS = 16  # open model: senders started freely; more only when arrivals wait
SENDER_GROW_AFTER_S = 0.002

_state: dict[str, Any] = {"pid": None, "recorder": None, "lane_claimed": False, "ledger_seq": 0}


def recorder() -> RequestRecorder:
    """This process's recorder (re-created after a fork), with its 1 s flush greenlet."""
    rec: RequestRecorder | None = _state["recorder"]
    if rec is None:
        rec = _state["recorder"] = RequestRecorder(RUN_DIR)
        _state["pid"] = os.getpid()
        gevent.spawn(_flush_loop, rec)
    return rec


def _forget_after_fork() -> None:
    # `locust --processes` forks workers: each records into its own file, drives its own lane
    _state.update(pid=None, recorder=None, lane_claimed=False)


os.register_at_fork(after_in_child=_forget_after_fork)


def _flush_loop(rec: RequestRecorder) -> None:
    while True:
        gevent.sleep(1.0 - (time.time() % 1.0) + 0.01)
        rec.flush(time.time(), settle_s=SETTINGS.request_timeout_s + 1.0)


def _flush_all(**_: Any) -> None:
    """At test stop and at quit: write every pending second of this process."""
    if _state["pid"] == os.getpid():
        recorder().flush(None)


def runqueue_wait_s() -> float | None:
    """Time this process's main thread spent runnable but waiting for a CPU (Linux schedstat)."""
    try:
        with open("/proc/self/schedstat", encoding="ascii") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def _mark_start(**_: Any) -> None:
    _state["cpu0"] = (os.getpid(), time.process_time(), time.monotonic(), runqueue_wait_s())


def _report_generator(**_: Any) -> None:
    """A `load.generator` event per recording process: its CPU use and CPU wait, so a saturated
    (cpu_util near 1) or starved (long runqueue wait) generator can be told from a slow target."""
    start = _state.get("cpu0")
    if _state["pid"] != os.getpid() or not start or start[0] != os.getpid():
        return
    rec = recorder()
    rec.flush(None)
    cpu_s = time.process_time() - start[1]
    wall_s = time.monotonic() - start[2]
    runq_end = runqueue_wait_s()
    runq_s = None if runq_end is None or start[3] is None else runq_end - start[3]
    detail = {
        "pid": os.getpid(),
        "writer": rec.path.name,
        "requests": sum(rec.totals.values()),
        "cpu_s": round(cpu_s, 3),
        "wall_s": round(wall_s, 3),
        "cpu_util": round(cpu_s / wall_s, 3) if wall_s > 0 else None,
        # waiting for a CPU while runnable: a busy machine starved the generator
        "runqueue_wait_s": None if runq_s is None else round(runq_s, 3),
    }
    append_event(RUN_DIR, "load.generator", "loadtests", detail)


def _check_target(environment: Any, **_: Any) -> None:
    """Plain `locust -f` runs get the same allowlist as the runner: loopback unless
    GAMEDAY_ALLOW_HOSTS (comma-separated) names the host."""
    host = getattr(environment, "host", None)
    if not host or getattr(getattr(environment, "parsed_options", None), "worker", False):
        return  # a worker takes the master's (already checked) host
    allow = [h for h in os.environ.get("GAMEDAY_ALLOW_HOSTS", "").split(",") if h]
    try:
        check_host(host, allow)
    except InputError as exc:
        print(f"loadtests: {exc} (or set GAMEDAY_ALLOW_HOSTS)", file=sys.stderr, flush=True)
        os._exit(2)  # refuse before any user starts; nothing to clean up yet


def _term_as_interrupt(signum: int, frame: Any) -> None:
    """SIGTERM -> KeyboardInterrupt, once: Locust (2.47) installs its own SIGTERM handler only
    after a headless shape run ends, so a TERM during the run killed the process before the
    recorder's last seconds (settle time ~ request timeout + 1 s) reached the disk, and every
    run lost its last ~7 s of requests. As Ctrl-C, the run stops and test_stop/quitting flush.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group TERM may arrive twice
    raise KeyboardInterrupt


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _term_as_interrupt)
events.init.add_listener(_check_target)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_mark_start)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_report_generator)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_flush_all)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_flush_all)  # type: ignore[no-untyped-call]


def classify(resp: Any) -> str:
    """Outcome of a FastHttpSession response: ok, http_<code>, timeout or conn_error."""
    status = getattr(resp, "status_code", 0) or 0
    if status:
        return outcome_for_status(status)
    err = getattr(resp, "error", None)
    err = getattr(err, "original", None) or err  # geventhttpclient wraps it in RetriesExceeded
    if isinstance(err, gevent.Timeout | TimeoutError | socket.timeout):
        return OUTCOME_TIMEOUT
    return OUTCOME_CONN_ERROR


def pick_request() -> tuple[str, str, str, dict[str, str] | None]:
    """(endpoint, method, path, body) by the traffic mix: 85 % reads, 10 % writes, 5 % health."""
    if SETTINGS.mix == "static":
        return "GET /static", "GET", "/static", None
    r = random.random()
    if r < 0.68:
        return "GET /items/{id}", "GET", f"/items/{random.randint(1, HOT_IDS)}", None
    if r < 0.85:
        return "GET /items/{id}", "GET", f"/items/{random.randint(1, SEEDED_IDS)}", None
    if r < 0.95:
        return "POST /items", "POST", "/items", {"value": f"v{random.getrandbits(32):08x}"}
    return "GET /health", "GET", "/health", None


class _Timeouts(FastHttpUser):
    abstract = True
    network_timeout = SETTINGS.request_timeout_s
    connection_timeout = SETTINGS.connect_timeout_s
    max_retries = 0  # a retry would hide the failure and double-send writes


class ApiUser(_Timeouts):
    """Closed model: one request every `user_pacing_s` (default 1/USER_RATE_RPS), latency from its send."""

    abstract = SETTINGS.open_rate_rps is not None
    wait_time = constant_pacing(SETTINGS.user_pacing_s)

    @task
    def one_request(self) -> None:
        endpoint, method, path, body = pick_request()
        t_wall = time.time()
        t0 = time.perf_counter()
        resp = self.client.request(method, path, name=endpoint, json=body)
        recorder().record(endpoint, t_wall, time.perf_counter() - t0, classify(resp))


class OpenModelUser(_Timeouts):
    """Open model: this process's lane of the arrival schedule (one lane per worker)."""

    abstract = SETTINGS.open_rate_rps is None
    wait_time = constant(3600)
    concurrency = SETTINGS.max_in_flight

    @task
    def drive(self) -> None:
        rec = recorder()
        if _state["lane_claimed"]:
            gevent.sleep(3600)  # an extra user in this process: the lane is already driven
            return
        _state["lane_claimed"] = True
        lanes = SETTINGS.open_lanes
        lane = max(0, getattr(self.environment.runner, "worker_index", 0)) % lanes
        rate = float(SETTINGS.open_rate_rps or 0.0)
        stages = SETTINGS.stages()
        schedule = ArrivalSchedule(rate_segments(stages, rate), lane, lanes)
        sched = OpenModelScheduler(
            schedule,
            time.monotonic(),
            max_lag_s=SETTINGS.max_lag_s,
            max_in_flight=SETTINGS.max_in_flight,
        )
        wall_offset = time.time() - time.monotonic()
        senders = _Senders(self, sched, wall_offset)
        while not sched.done:
            for arrival in sched.due(time.monotonic()):
                if arrival.send:
                    senders.submit(arrival.intended)
                else:
                    rec.record(
                        pick_request()[0], arrival.intended + wall_offset, None, OUTCOME_LATE
                    )
            nxt = sched.next_due()
            if nxt is not None:
                gevent.sleep(max(0.0, nxt - time.monotonic()))
        senders.close(timeout=SETTINGS.request_timeout_s + 1.0)
        target = schedule.lane_count()
        detail = {
            "lane": lane,
            "lanes": lanes,
            "target_requests": target,
            "sent": sched.sent,
            "late": sched.late,
            "achieved_ratio": sched.sent / target if target else None,
            "duration_s": schedule.end_s,
            "peak_rate_rps": rate,
        }
        append_event(RUN_DIR, "load.open_model", "loadtests", detail)
        print(f"open-model lane {lane}/{lanes}: {detail}", flush=True)
        gevent.sleep(3600)  # keep the lane idle until the shape stops the run

    def send_one(self, intended: float, wall_offset: float) -> None:
        """One arrival, its latency measured from its intended time."""
        endpoint, method, path, body = pick_request()
        resp = self.client.request(method, path, name=endpoint, json=body)
        latency = time.monotonic() - intended
        recorder().record(endpoint, intended + wall_offset, latency, classify(resp))


class _Senders:
    """Sender greenlets fed by a queue: reused (no greenlet and connection per request), grown
    while arrivals wait and nobody is idle, up to the lane's max_in_flight. Queue wait counts in
    the latency (it is measured from the intended time); an arrival that waited longer than
    max_lag_s is given up as `late`."""

    def __init__(self, user: OpenModelUser, sched: OpenModelScheduler, wall_offset: float) -> None:
        self.user = user
        self.sched = sched
        self.wall_offset = wall_offset
        self.queue: gevent.queue.Queue[float | None] = gevent.queue.Queue()
        self.group = gevent.pool.Group()
        self.idle = 0

    def submit(self, intended: float) -> None:
        self.queue.put(intended)
        if self.queue.qsize() <= self.idle or len(self.group) >= self.sched.max_in_flight:
            return
        # Grow only when the senders fall behind (the head arrival has waited): each extra
        # sender is an extra connection, and fewer, busier connections cost less CPU.
        head = self.queue.peek(block=False)
        if len(self.group) < MIN_SENDERS or (
            head is not None and time.monotonic() - head > SENDER_GROW_AFTER_S
        ):
            self.group.spawn(self._run)

    def close(self, timeout: float) -> None:
        for _ in range(len(self.group)):
            self.queue.put(None)
        self.group.join(timeout=timeout)
        self.group.kill(block=False)

    def _run(self) -> None:
        while True:
            self.idle += 1
            intended = self.queue.get()
            self.idle -= 1
            if intended is None:
                return
            if time.monotonic() - intended > self.sched.max_lag_s:
                self.sched.abandoned()
                endpoint = pick_request()[0]
                recorder().record(endpoint, intended + self.wall_offset, None, OUTCOME_LATE)
                continue
            try:
                self.user.send_one(intended, self.wall_offset)
            finally:
                self.sched.completed()


class LedgerUser(_Timeouts):
    """One per run: `POST /ledger` with increasing seq; every outcome -> ledger.jsonl."""

    abstract = SETTINGS.ledger_rate_rps <= 0
    fixed_count = 1
    wait_time = constant_pacing(1.0 / SETTINGS.ledger_rate_rps if SETTINGS.ledger_rate_rps else 1.0)
    client_id = SETTINGS.client or Path(RUN_DIR).name

    def on_start(self) -> None:
        # continue after any earlier ledger user of this run (Locust may move users between workers)
        _state["ledger_seq"] = max(_state["ledger_seq"], last_seq(RUN_DIR, self.client_id))
        self.ledger = LedgerWriter(RUN_DIR)

    def on_stop(self) -> None:
        self.ledger.close()

    @task
    def write(self) -> None:
        _state["ledger_seq"] += 1
        seq = _state["ledger_seq"]
        body = {"client": self.client_id, "seq": seq}
        t_send = time.time()
        t0 = time.perf_counter()
        resp = self.client.request("POST", "/ledger", name="POST /ledger", json=body)
        latency = time.perf_counter() - t0
        status = getattr(resp, "status_code", 0) or 0
        self.ledger.append(ledger_line(self.client_id, seq, t_send, t_send + latency, status))
        recorder().record("POST /ledger", t_send, latency, classify(resp))

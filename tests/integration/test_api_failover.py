"""A PostgreSQL failover under a steady write stream, as the local stack does it: the
API's database URL points at an HAProxy that routes to the leader; the leader is
hard-killed, the streaming standby promoted, and the same URL reaches it. The API
must recover by itself (same process), never hold a request past its deadline,
and keep every write it acknowledged that had reached the standby."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.support.api_servers import (
    ApiServer,
    Postgres,
    Redis,
    TcpLeaderProxy,
    wait_until,
    why_no_servers,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.destructive,
    pytest.mark.skipif(why_no_servers() is not None, reason=str(why_no_servers())),
]

CLIENT = "run-failover"


@dataclass
class Outcome:
    seq: int
    t_send: float
    latency_s: float
    status: int | None  # None: no answer


@dataclass
class Writer:
    """Sequential ledger writes through the API, paced at most one per 10 ms."""

    base_url: str
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        seq = 0
        with httpx.Client(base_url=self.base_url, timeout=10.0) as client:
            while not self.stop.is_set():
                seq += 1
                t0 = time.monotonic()
                try:
                    status: int | None = client.post(
                        "/ledger", json={"client": CLIENT, "seq": seq}
                    ).status_code
                except httpx.HTTPError:
                    status = None
                t1 = time.monotonic()
                self.outcomes.append(Outcome(seq, t0, t1 - t0, status))
                self.stop.wait(max(0.0, 0.01 - (t1 - t0)))

    def acknowledged(self) -> set[int]:
        return {o.seq for o in self.outcomes if o.status == 201}


@pytest.fixture()
def servers() -> Iterator[tuple[Postgres, Postgres, TcpLeaderProxy, Redis, ApiServer]]:
    leader = Postgres("127.0.5.20")
    standby: Postgres | None = None
    proxy: TcpLeaderProxy | None = None
    redis = Redis("127.0.5.31")
    api: ApiServer | None = None
    try:
        leader.start()
        redis.start()
        standby = Postgres("127.0.5.21", primary=leader)
        standby.start()
        proxy = TcpLeaderProxy("127.0.5.10", 5000, leader, standby)
        proxy.start()
        api = ApiServer("127.0.5.50", 8161, proxy.url, [redis.url], replica="api-fo")
        api.start()
        api.wait_healthy(20)  # the API created its schema; it streams to the standby
        yield leader, standby, proxy, redis, api
    finally:
        for server in (api, proxy, standby, redis, leader):
            if server is not None:
                server.cleanup()


def test_api_rides_a_leader_kill_and_promotion_through_the_proxy(servers) -> None:  # type: ignore[no-untyped-def]
    leader, standby, _proxy, _redis, api = servers
    writer = Writer(api.base_url)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        wait_until("50 acknowledged writes", lambda: len(writer.acknowledged()) >= 50, 20)
        # only judge writes that the asynchronous standby had received before the kill
        wait_until(
            "standby caught up",
            lambda: (
                int(standby.psql(f"SELECT count(*) FROM ledger WHERE client = '{CLIENT}'")) >= 50
            ),
            20,
        )
        replicated = {
            int(x)
            for x in standby.psql(
                f"SELECT seq FROM ledger WHERE client = '{CLIENT}' ORDER BY seq"
            ).split()
        }
        pid = api.proc.pid
        t_kill = time.monotonic()
        leader.proc.send_tree(signal.SIGKILL)  # postmaster and every backend, no goodbye
        # writes sent before this instant may have been acknowledged by the old leader
        # and not streamed yet (asynchronous replication): RPO, not the API's business
        t_dead = time.monotonic()
        standby.psql("SELECT pg_promote()")
        wait_until(
            "a write acknowledged after the failover",
            lambda: any(o.status == 201 and o.t_send > t_dead for o in writer.outcomes),
            30,
        )
        n_after = len(writer.outcomes)
        wait_until("20 more writes", lambda: len(writer.outcomes) >= n_after + 20, 20)
    finally:
        writer.stop.set()
        thread.join(15)
    first_ok = min(
        o.t_send + o.latency_s for o in writer.outcomes if o.status == 201 and o.t_send > t_dead
    )
    failed = [o for o in writer.outcomes if o.t_send > t_kill and o.status != 201]
    print(
        f"failover: first write acknowledged {first_ok - t_kill:.2f} s after the kill; "
        f"{len(failed)} writes refused meanwhile; slowest answer "
        f"{max(o.latency_s for o in writer.outcomes):.2f} s"
    )
    assert api.proc.pid == pid and api.proc.alive()  # recovered without a restart
    assert all(o.status is not None for o in writer.outcomes)  # always an answer
    assert max(o.latency_s for o in writer.outcomes) < 3.5
    assert all(o.status in (201, 503) for o in writer.outcomes)
    stored = {
        int(x) for x in standby.psql(f"SELECT seq FROM ledger WHERE client = '{CLIENT}'").split()
    }
    acknowledged = writer.acknowledged()
    assert replicated & acknowledged <= stored  # nothing the standby had is lost
    after = {o.seq for o in writer.outcomes if o.status == 201 and o.t_send > t_dead}
    assert after and after <= stored  # writes after the failover land on the new leader
    assert api.client.get("/health").json()["database"] == "connected"

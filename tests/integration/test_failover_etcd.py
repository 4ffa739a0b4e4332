"""The etcd leader lock against a REAL etcd 3.4 started on 127.0.7.x."""

from __future__ import annotations

import threading

import pytest

from failover.backends.etcd_lock import EtcdLock
from failover.errors import LeadershipLost, LockError
from tests.support.failover_support import Etcd, wait_for


@pytest.fixture(scope="module")
def etcd(tmp_path_factory):
    proc = Etcd(tmp_path_factory.mktemp("etcd")).start()
    yield proc
    proc.stop()


def test_two_contenders_one_wins(etcd):
    a = EtcdLock([etcd.client_url], "ctl-a", prefix="/t1", ttl_s=2)
    b = EtcdLock([etcd.client_url], "ctl-b", prefix="/t1", ttl_s=2)
    results: dict[str, bool] = {}
    barrier = threading.Barrier(2)

    def contend(lk: EtcdLock) -> None:
        barrier.wait()
        results[lk.identity] = lk.try_acquire()

    threads = [threading.Thread(target=contend, args=(lk,)) for lk in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results.values()) == [False, True], results
    winner, loser = (a, b) if results["ctl-a"] else (b, a)
    assert loser.holder() == winner.identity
    assert winner.try_acquire() and not loser.try_acquire()  # renewal keeps it
    winner.release()


def test_lease_expiry_hands_over_with_the_state(etcd):
    a = EtcdLock([etcd.client_url], "ctl-a", prefix="/t2", ttl_s=2)
    b = EtcdLock([etcd.client_url], "ctl-b", prefix="/t2", ttl_s=2)
    assert a.try_acquire()
    a.write_state({"active": "secondary", "operation": {"id": "op7", "done": ["traffic_switched"]}})
    assert not b.try_acquire()
    with pytest.raises(LeadershipLost):
        b.write_state({"active": "primary"})
    # a dies (stops renewing): its lease expires after ~2 s and b takes over
    wait_for(b.try_acquire, 10, "b to take over after a's lease expired", interval_s=0.2)
    assert b.holder() == "ctl-b"
    assert b.read_state()["operation"] == {"id": "op7", "done": ["traffic_switched"]}
    # the deposed leader cannot write, and learns it lost
    with pytest.raises(LeadershipLost):
        a.write_state({"active": "primary"})
    assert not a.try_acquire()
    b.release()


def test_release_hands_over_at_once(etcd):
    a = EtcdLock([etcd.client_url], "ctl-a", prefix="/t3", ttl_s=30)
    b = EtcdLock([etcd.client_url], "ctl-b", prefix="/t3", ttl_s=30)
    assert a.try_acquire() and not b.try_acquire()
    a.release()
    assert b.try_acquire()
    b.release()


def test_unreachable_etcd_is_a_lock_error():
    lk = EtcdLock(["http://127.0.7.11:9"], "ctl-a", timeout_s=0.3)
    with pytest.raises(LockError, match="no endpoint answered"):
        lk.try_acquire()


def test_second_endpoint_is_used_when_the_first_is_down(etcd):
    lk = EtcdLock(
        ["http://127.0.7.11:9", etcd.client_url], "ctl-a", prefix="/t4", ttl_s=2, timeout_s=0.3
    )
    assert lk.try_acquire()
    lk.release()


def test_a_hung_member_costs_one_timeout_not_one_per_call(etcd):
    """A member that accepts connections and never answers (SIGSTOP) goes to the back of the list."""
    import socket

    hung = socket.socket()
    hung.bind(("127.0.7.12", 0))
    hung.listen(16)  # the kernel accepts; nobody ever answers
    try:
        url = f"http://127.0.7.12:{hung.getsockname()[1]}"
        lk = EtcdLock([url, etcd.client_url], "ctl-a", prefix="/t5", ttl_s=2, timeout_s=0.5)
        assert lk.try_acquire()
        assert lk.endpoints[0] == etcd.client_url, "the hung member moved to the back"
        for _ in range(5):
            assert lk.try_acquire()
        assert lk.endpoints == [etcd.client_url, url], "later calls go to the member that answers"
        lk.release()
    finally:
        hung.close()

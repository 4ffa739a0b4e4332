"""The edge switch against a REAL HAProxy (Debian's 2.6) through its admin socket."""

from __future__ import annotations

import httpx
import pytest

from failover.backends.haproxy import HAProxyRuntimeSwitch
from failover.errors import TrafficSwitchError
from tests.support.failover_support import HAProxy, RegionServer, wait_for


@pytest.fixture
def edge(tmp_path):
    regions = {
        "primary": RegionServer("primary", "127.0.7.3"),
        "secondary": RegionServer("secondary", "127.0.7.4"),
    }
    proxy = HAProxy(tmp_path, {name: srv.addr for name, srv in regions.items()}).start()
    yield proxy, regions
    proxy.stop()
    for srv in regions.values():
        srv.stop()


def served_by(url: str) -> str | None:
    try:
        return httpx.get(url + "/items/1", timeout=2).headers.get("X-Region")
    except httpx.HTTPError:
        return None


def test_switch_moves_edge_traffic_and_back(edge):
    proxy, _ = edge
    sw = HAProxyRuntimeSwitch(proxy.socket)
    assert sw.current() == "primary"
    assert served_by(proxy.url) == "primary"
    sw.switch_to("secondary")
    assert sw.current() == "secondary"
    assert {served_by(proxy.url) for _ in range(10)} == {"secondary"}
    sw.switch_to("secondary")  # idempotent
    assert sw.current() == "secondary"
    sw.switch_to("primary")
    assert {served_by(proxy.url) for _ in range(10)} == {"primary"}


def test_switch_to_unknown_region_is_refused_and_changes_nothing(edge):
    proxy, _ = edge
    sw = HAProxyRuntimeSwitch(proxy.socket)
    with pytest.raises(TrafficSwitchError, match="no server 'mars'") as err:
        sw.switch_to("mars")
    assert not err.value.retryable
    assert sw.current() == "primary"


def test_wrong_backend_and_missing_socket_are_switch_errors(edge, tmp_path):
    proxy, _ = edge
    with pytest.raises(TrafficSwitchError):
        HAProxyRuntimeSwitch(proxy.socket, backend="be_nope").switch_to("primary")
    with pytest.raises(TrafficSwitchError, match="admin socket"):
        HAProxyRuntimeSwitch(tmp_path / "absent.sock").current()


def test_dead_primary_edge_serves_from_secondary_after_switch(edge):
    proxy, regions = edge
    regions["primary"].stop()  # the region dies: the edge answers 503 (no server check, retries 0)
    assert wait_for(
        lambda: httpx.get(proxy.url + "/", timeout=2).status_code >= 500, 5, "edge failing"
    )
    HAProxyRuntimeSwitch(proxy.socket).switch_to("secondary")
    assert served_by(proxy.url) == "secondary"

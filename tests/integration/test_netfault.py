"""nftables faults on loopback: a real rule cuts a real connection, heal removes it."""

from __future__ import annotations

import shutil
import socket

import pytest

from bedrock.errors import ActionError
from stack import netfault

pytestmark = pytest.mark.skipif(shutil.which("nft") is None, reason="nftables not installed")


def connects(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def test_refuses_non_loopback_destinations() -> None:
    with pytest.raises(ActionError, match="not a loopback"):
        netfault.drop_to("10.0.0.1", [80])


def test_partition_cuts_then_heals() -> None:
    with socket.socket() as server:
        server.bind(("127.0.77.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        try:
            assert connects("127.0.77.1", port)
            netfault.drop_to("127.0.77.1", [port], tag="test")
            assert any("gameday:test" in r for r in netfault.active_rules())
            assert not connects("127.0.77.1", port), "the rule must drop the SYN"
        finally:
            healed = netfault.heal()
        assert healed
        assert netfault.active_rules() == []
        assert connects("127.0.77.1", port)

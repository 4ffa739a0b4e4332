"""`gameday up` against a port another program holds: refused before anything starts (the
test listens on a socket, so it lives here, not in tests/unit). Needs no stack."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

from stack.topology import DEFAULT_TOPOLOGY

CI_TOPOLOGY = DEFAULT_TOPOLOGY.parent / "topology-ci.yaml"


def raw(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_up_refuses_a_port_held_by_another_program(cli, tmp_path: Path) -> None:
    """`gameday up` checks every port before starting anything and names the holder."""
    data = raw(CI_TOPOLOGY)
    # A private copy of the topology on ranges no other test uses.
    for i, region in enumerate(["primary", "secondary", "witness"]):
        data["regions"][region]["cidr"] = f"127.0.{21 + i}.0/24"
    data["global"]["address"] = "127.0.29.1"
    data["state_dir"] = str(tmp_path / "state")
    path = tmp_path / "topo.yaml"
    path.write_text(yaml.safe_dump(data))
    with socket.socket() as holder:
        holder.bind(("127.0.22.1", 8080))
        holder.listen()
        result = cli("up", "--topology", str(path), timeout=60)
    assert result.returncode == 2, result.stderr
    assert "127.0.22.1:8080" in result.stderr
    assert "haproxy secondary" in result.stderr
    assert "pid " in result.stderr
    assert not (tmp_path / "state").exists(), "nothing may start when input is bad"

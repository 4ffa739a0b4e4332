"""The topology file: the shipped ones are valid; bad input names the file and key, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bedrock.errors import ConfigError
from stack.topology import (
    BUNDLED_PATRONI,
    DEBIAN_PATRONI,
    DEFAULT_TOPOLOGY,
    PATRONI4_MIN_TTL,
    load_topology,
    parse_topology,
)

CI_TOPOLOGY = DEFAULT_TOPOLOGY.parent / "topology-ci.yaml"


def raw(path: Path = DEFAULT_TOPOLOGY) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", [DEFAULT_TOPOLOGY, CI_TOPOLOGY])
def test_shipped_topologies_are_valid(path: Path) -> None:
    t = load_topology(path).topology
    assert t.active_region == "primary"
    assert t.lb_host("secondary") == "127.0.2.1"
    assert len(t.redis_hosts("primary")) == 6
    assert t.redis_hosts("secondary") == ["127.0.2.31"]


def test_seed_replica_counts_in_default() -> None:
    t = load_topology().topology
    assert (t.regions["primary"].api_replicas, t.regions["secondary"].api_replicas) == (3, 2)


def problems_of(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_topology(data, "topo.yaml")
    assert info.value.source == "topo.yaml"
    return info.value.problems


def test_unknown_key_is_named() -> None:
    data = raw()
    data["regions"]["primary"]["replicas"] = 3
    assert problems_of(data) == ["regions.primary.replicas: unknown key"]


def test_wrong_type_is_named() -> None:
    data = raw()
    data["postgres"]["ttl"] = "ten"
    [problem] = problems_of(data)
    assert problem.startswith("postgres.ttl:")


def test_all_problems_reported_at_once() -> None:
    data = raw()
    data["global"]["edge_port"] = 0
    data["ports"]["redis"] = "x"
    problems = problems_of(data)
    assert any(p.startswith("global.edge_port:") for p in problems)
    assert any(p.startswith("ports.redis:") for p in problems)


def test_port_clash_is_named() -> None:
    data = raw()
    data["ports"]["lb_stats"] = data["ports"]["lb_http"]
    problems = problems_of(data)
    assert any("127.0.1.1:8080 is used by both" in p for p in problems)


def test_patroni_timing_rule() -> None:
    data = raw()
    data["postgres"].update(ttl=6, loop_wait=1, retry_timeout=3)
    assert any("loop_wait + 2*retry_timeout" in p for p in problems_of(data))


def test_shipped_topologies_run_the_bundled_patroni_at_its_minimum_ttl() -> None:
    for path in (DEFAULT_TOPOLOGY, CI_TOPOLOGY):
        pg = load_topology(path).topology.postgres
        assert (pg.patroni, pg.ttl) == (BUNDLED_PATRONI, PATRONI4_MIN_TTL)
        assert pg.synchronous_mode, "an acknowledged write must be on the replica too"


def test_ttl_below_patroni4_minimum_is_refused() -> None:
    data = raw()
    data["postgres"]["ttl"] = 10
    [problem] = problems_of(data)
    assert problem.startswith("postgres.ttl: 10 is below 20") and BUNDLED_PATRONI in problem


def test_debian_patroni_still_accepts_a_short_ttl() -> None:
    data = raw()
    data["postgres"].update(patroni=DEBIAN_PATRONI, ttl=10)
    assert parse_topology(data, "topo.yaml").postgres.ttl == 10


def test_patroni_executable_must_be_absolute() -> None:
    data = raw()
    data["postgres"]["patroni"] = "patroni"
    assert any(p.startswith("postgres.patroni:") for p in problems_of(data))


def test_non_loopback_range_is_refused() -> None:
    data = raw()
    data["regions"]["secondary"]["cidr"] = "10.0.2.0/24"
    assert any(p.startswith("regions.secondary.cidr:") for p in problems_of(data))


def test_leader_must_be_a_member() -> None:
    data = raw()
    data["postgres"]["leader"] = "pg-nowhere"
    assert any(p.startswith("postgres.leader:") for p in problems_of(data))


def test_cli_bad_topology_exits_2_naming_file_and_key(cli, tmp_path: Path) -> None:
    data = raw()
    data["regions"]["primary"]["bogus"] = 1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    result = cli("validate-topology", str(path))
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert "regions.primary.bogus: unknown key" in result.stderr


def test_cli_invalid_yaml_names_line(cli, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nregions: [\n")
    result = cli("validate-topology", str(path))
    assert result.returncode == 2
    assert "line " in result.stderr

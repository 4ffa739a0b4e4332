"""SLO spec: threshold strings, defaults from the seed, profile scaling, errors by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bedrock.errors import ConfigError
from slo.spec import SloSpec, load_spec, spec_to_yaml
from slo.thresholds import parse_threshold


@pytest.mark.parametrize(
    ("text", "stat", "op", "value", "dim"),
    [
        ("p95 < 100ms", "p95", "<", 0.1, "time"),
        ("p(99.9)<=2s", "p(99.9)", "<=", 2.0, "time"),
        ("rpo < 5min", "rpo", "<", 300.0, "time"),
        ("availability >= 99.95%", "availability", ">=", 0.9995, "ratio"),
        ("throughput >= 5000/s", "throughput", ">=", 5000.0, "rate"),
    ],
)
def test_parse_threshold(text: str, stat: str, op: str, value: float, dim: str) -> None:
    t = parse_threshold(text)
    assert (t.stat, t.op, t.dimension) == (stat, op, dim)
    assert t.value == pytest.approx(value)


def test_percentile_of_threshold() -> None:
    assert parse_threshold("p(99.9) < 1s").percentile == 99.9
    assert parse_threshold("max < 1s").percentile is None


@pytest.mark.parametrize("text", ["p95 100ms", "p95 < 100 parsecs", "< 3s", "p95 == 3s"])
def test_bad_thresholds_raise(text: str) -> None:
    with pytest.raises(ValueError):
        parse_threshold(text)


def test_defaults_are_the_seed_targets() -> None:
    spec = SloSpec()
    assert spec.threshold("failover").value == 30
    assert spec.threshold("rto").value == 30
    assert spec.threshold("rpo").value == 300
    assert spec.threshold("scale_time").value == 120
    assert spec.threshold("availability").value == pytest.approx(0.9995)
    assert spec.threshold("error_rate").value == pytest.approx(0.01)
    assert spec.p95_target_s() == pytest.approx(0.1)
    assert spec.throughput_target("full")[0].value == 5000


def test_profile_scales_throughput() -> None:
    spec = SloSpec()
    ci, scale = spec.throughput_target("ci")
    assert scale == 0.02 and ci.value == pytest.approx(100)
    assert "profile ci" in ci.text
    assert spec.throughput_target("unknown-profile")[0].value == 5000


def test_yaml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(spec_to_yaml(SloSpec()))
    assert load_spec(path) == SloSpec()


def test_override_and_disable(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(
        'failover: "failover < 10s"\nscale_time: null\nlatency:\n  fault: ["p99 < 500ms"]\n'
    )
    spec = load_spec(path)
    assert spec.threshold("failover").value == 10
    assert spec.threshold("scale_time") is None
    assert [t.text for t in spec.latency_thresholds("fault")] == ["p99 < 500ms"]


def test_every_problem_named_by_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        'rto: "p95 < 3s"\nrpo: "rpo < 99%"\nlatency:\n  fault: ["p95 < 100 parsecs"]\n'
        "failover_settings:\n  sustained_window_s: -1\nunknown_key: 1\n"
    )
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    text = str(info.value)
    assert str(path) in text
    for key in (
        "rto:",
        "rpo:",
        "latency.fault[0]:",
        "failover_settings.sustained_window_s:",
        "unknown_key:",
    ):
        assert key in text
    assert info.value.exit_code == 2


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("rto: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+: invalid YAML"):
        load_spec(path)

"""Loading the HPA from the manifest: defaults, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoscaler.spec import load_hpa, parse_quantity
from bedrock.errors import EXIT_BAD_INPUT, ConfigError

SEED = Path("manifests/k8s/base/hpa.yaml")


def test_the_seed_manifest_loads_with_its_behaviour() -> None:
    spec = load_hpa(SEED)
    assert (spec.name, spec.min_replicas, spec.max_replicas) == ("twinme-api-hpa", 3, 50)
    assert [m.type for m in spec.metrics] == ["Resource", "Resource", "Pods"]
    assert spec.metrics[2].pods is not None and spec.metrics[2].pods.target.averageValue == 100
    up, down = spec.scale_up, spec.scale_down
    assert (up.stabilization_window_s, up.select_policy, up.longest_period_s) == (60, "Max", 15)
    assert [(p.type, p.value, p.period_s) for p in up.policies] == [
        ("Percent", 100, 15),
        ("Pods", 4, 15),
    ]
    assert (down.stabilization_window_s, down.select_policy) == (300, "Min")
    assert up.tolerance == down.tolerance == 0.1


def test_defaults_fill_missing_behaviour(tmp_path: Path) -> None:
    f = tmp_path / "hpa.yaml"
    f.write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: x}\n"
        "spec:\n  scaleTargetRef: {kind: Deployment, name: api}\n  maxReplicas: 5\n"
        "  behavior:\n    scaleUp: {selectPolicy: Min}\n"
    )
    spec = load_hpa(f)
    assert spec.min_replicas == 1
    assert spec.metrics[0].resource is not None
    assert spec.metrics[0].resource.target.averageUtilization == 80  # default CPU 80 %
    assert spec.scale_up.select_policy == "Min"
    assert [(p.type, p.value) for p in spec.scale_up.policies] == [("Pods", 4), ("Percent", 100)]
    assert spec.scale_up.stabilization_window_s == 0
    assert spec.scale_down.stabilization_window_s == 300
    assert [(p.type, p.value, p.period_s) for p in spec.scale_down.policies] == [
        ("Percent", 100, 15)
    ]


def test_every_problem_is_reported_with_its_key(tmp_path: Path) -> None:
    f = tmp_path / "hpa.yaml"
    text = SEED.read_text()
    text = text.replace("minReplicas: 3", "minReplicas: 60")
    text = text.replace("type: Pods\n        value: 4", "type: Pod\n        value: 4")
    text = text.replace("selectPolicy: Min", "selectPolicy: Smallest")
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_hpa(f)
    err = info.value
    assert err.exit_code == EXIT_BAD_INPUT
    assert err.source == str(f)
    joined = "\n".join(err.problems)
    assert "spec.behavior.scaleUp.policies[1].type" in joined
    assert "spec.behavior.scaleDown.selectPolicy" in joined
    # min > max is checked once the fields themselves are valid; fix the others to see it
    f.write_text(SEED.read_text().replace("minReplicas: 3", "minReplicas: 60"))
    with pytest.raises(ConfigError, match=r"maxReplicas \(50\) must be >= minReplicas \(60\)"):
        load_hpa(f)


def test_typos_are_rejected_not_ignored(tmp_path: Path) -> None:
    f = tmp_path / "hpa.yaml"
    f.write_text(
        SEED.read_text().replace("stabilizationWindowSeconds: 60", "stabilisationWindowSeconds: 60")
    )
    with pytest.raises(ConfigError, match=r"spec\.behavior\.scaleUp\.stabilisationWindowSeconds"):
        load_hpa(f)


def test_target_without_its_value_and_unsupported_metric(tmp_path: Path) -> None:
    f = tmp_path / "hpa.yaml"
    f.write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
        "spec:\n  scaleTargetRef: {kind: Deployment, name: api}\n  maxReplicas: 5\n"
        "  metrics:\n"
        "  - type: Resource\n    resource: {name: cpu, target: {type: Utilization}}\n"
        "  - type: External\n    external: {metric: {name: queue}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_hpa(f)
    joined = "\n".join(info.value.problems)
    assert "spec.metrics[0].resource.target" in joined and "averageUtilization" in joined
    assert "spec.metrics[1]" in joined and "External" in joined


def test_missing_file_bad_yaml_and_no_hpa(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_hpa(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("spec: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_hpa(bad)
    other = tmp_path / "other.yaml"
    other.write_text("apiVersion: v1\nkind: Service\n")
    with pytest.raises(ConfigError, match="no HorizontalPodAutoscaler"):
        load_hpa(other)


@pytest.mark.parametrize(
    ("text", "value"),
    [("100", 100.0), ("500m", 0.5), ("1.5k", 1500.0), ("2Ki", 2048.0), (7, 7.0)],
)
def test_quantities(text: str | int, value: float) -> None:
    assert parse_quantity(text) == value


def test_bad_quantity() -> None:
    with pytest.raises(ValueError):
        parse_quantity("ten")

"""The HorizontalPodAutoscaler object (autoscaling/v2) read from a manifest and validated.

One file drives both targets: a cluster applies ``manifests/k8s/base/hpa.yaml`` and the local
autoscaler reads its ``spec`` here. Validation follows the API server's rules that matter to the
algorithm (min <= max, policy ranges, targets present for their type) and reports every problem
with its key path. Limits: only ``Resource`` and ``Pods`` metrics can be evaluated locally;
``Object``, ``External`` and ``ContainerResource`` are rejected with a clear message.
Defaults are the API server's (``pkg/apis/autoscaling/v2/defaults.go``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bedrock.errors import ConfigError
from bedrock.loader import Document, load_documents
from bedrock.models import problems_of

DEFAULT_TOLERANCE = 0.1
DEFAULT_SCALE_DOWN_WINDOW_S = 300  # --horizontal-pod-autoscaler-downscale-stabilization

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_SUFFIX = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def parse_quantity(value: str | int | float) -> float:
    """A Kubernetes quantity ("100", "500m", "1.5k", "2Gi") as a float; ValueError if malformed."""
    if isinstance(value, bool):
        raise ValueError("a quantity, not a boolean")
    if isinstance(value, int | float):
        number = float(value)
    else:
        match = _QUANTITY.match(str(value).strip())
        if not match:
            raise ValueError(f"not a Kubernetes quantity: {value!r}")
        number = float(match.group(1)) * _SUFFIX[match.group(2)]
    if not math.isfinite(number):
        raise ValueError(f"not a finite quantity: {value!r}")
    return number


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class MetricTarget(_Model):
    type: Literal["Utilization", "AverageValue", "Value"]
    averageUtilization: int | None = Field(default=None, gt=0, le=100_000)
    averageValue: float | None = None
    value: float | None = None

    @field_validator("averageValue", "value", mode="before")
    @classmethod
    def _quantity(cls, v: Any) -> float | None:
        return None if v is None else parse_quantity(v)

    @model_validator(mode="after")
    def _target_for_type(self) -> MetricTarget:
        needed = {
            "Utilization": "averageUtilization",
            "AverageValue": "averageValue",
            "Value": "value",
        }
        key = needed[self.type]
        if getattr(self, key) is None:
            raise ValueError(f"target type {self.type} needs {key}")
        if self.averageValue is not None and self.averageValue <= 0:
            raise ValueError("averageValue must be positive")
        return self


class ResourceMetricSource(_Model):
    name: str = Field(min_length=1)
    target: MetricTarget

    @model_validator(mode="after")
    def _no_value(self) -> ResourceMetricSource:
        if self.target.type == "Value":
            raise ValueError("a Resource metric target is Utilization or AverageValue")
        return self


class MetricIdentifier(_Model):
    name: str = Field(min_length=1)
    selector: dict[str, Any] | None = None


class PodsMetricSource(_Model):
    metric: MetricIdentifier
    target: MetricTarget

    @model_validator(mode="after")
    def _average_value(self) -> PodsMetricSource:
        if self.target.type != "AverageValue":
            raise ValueError("a Pods metric target must be AverageValue")
        return self


class MetricSpec(_Model):
    type: Literal["Resource", "Pods", "Object", "External", "ContainerResource"]
    resource: ResourceMetricSource | None = None
    pods: PodsMetricSource | None = None
    object: dict[str, Any] | None = None
    external: dict[str, Any] | None = None
    containerResource: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _source_for_type(self) -> MetricSpec:
        if self.type not in ("Resource", "Pods"):
            raise ValueError(
                f"metric type {self.type} cannot be evaluated by the local autoscaler "
                "(only Resource and Pods)"
            )
        key = "resource" if self.type == "Resource" else "pods"
        if getattr(self, key) is None:
            raise ValueError(f"type {self.type} needs the {key!r} block")
        return self

    @property
    def name(self) -> str:
        """Human name, as the HPA controller words it in its events."""
        if self.resource is not None:
            if self.resource.target.type == "Utilization":
                return f"{self.resource.name} resource utilization (percentage of request)"
            return f"{self.resource.name} resource"
        assert self.pods is not None
        return f"pods metric {self.pods.metric.name}"


class HPAScalingPolicy(_Model):
    type: Literal["Pods", "Percent"]
    value: int = Field(gt=0, le=100_000)
    periodSeconds: int = Field(gt=0, le=1800)


class HPAScalingRules(_Model):
    stabilizationWindowSeconds: int | None = Field(default=None, ge=0, le=3600)
    selectPolicy: Literal["Max", "Min", "Disabled"] | None = None
    policies: list[HPAScalingPolicy] | None = None
    tolerance: float | None = Field(default=None, ge=0, le=10)  # HPAConfigurableTolerance (1.33+)

    @field_validator("tolerance", mode="before")
    @classmethod
    def _quantity(cls, v: Any) -> float | None:
        return None if v is None else parse_quantity(v)

    @model_validator(mode="after")
    def _policies_unless_disabled(self) -> HPAScalingRules:
        if self.policies is not None and not self.policies and self.selectPolicy != "Disabled":
            raise ValueError("policies must not be empty unless selectPolicy is Disabled")
        return self


class HorizontalPodAutoscalerBehavior(_Model):
    scaleUp: HPAScalingRules | None = None
    scaleDown: HPAScalingRules | None = None


class CrossVersionObjectReference(_Model):
    apiVersion: str | None = None
    kind: str = Field(min_length=1)
    name: str = Field(min_length=1)


class HorizontalPodAutoscalerSpec(_Model):
    scaleTargetRef: CrossVersionObjectReference
    minReplicas: int = Field(default=1, ge=1, le=1000)
    maxReplicas: int = Field(ge=1, le=1000)
    metrics: list[MetricSpec] = Field(default_factory=list)
    behavior: HorizontalPodAutoscalerBehavior | None = None

    @model_validator(mode="after")
    def _min_le_max(self) -> HorizontalPodAutoscalerSpec:
        if self.maxReplicas < self.minReplicas:
            raise ValueError(
                f"maxReplicas ({self.maxReplicas}) must be >= minReplicas ({self.minReplicas})"
            )
        return self


# -- the resolved form the algorithm uses ------------------------------------------------


@dataclass(frozen=True)
class Policy:
    type: Literal["Pods", "Percent"]
    value: int
    period_s: int


@dataclass(frozen=True)
class Rules:
    """One direction's behaviour, with the API server's defaults filled in."""

    stabilization_window_s: int
    select_policy: Literal["Max", "Min", "Disabled"]
    policies: tuple[Policy, ...]
    tolerance: float

    @property
    def longest_period_s(self) -> int:
        return max((p.period_s for p in self.policies), default=0)


@dataclass(frozen=True)
class HpaSpec:
    """What the algorithm needs: replica bounds, metrics, and both directions' rules."""

    name: str
    min_replicas: int
    max_replicas: int
    metrics: tuple[MetricSpec, ...]
    scale_up: Rules
    scale_down: Rules
    behavior_given: bool
    source: str = "<memory>"


def _rules(
    given: HPAScalingRules | None, *, up: bool, tolerance: float, window_default: int
) -> Rules:
    policies: tuple[Policy, ...]
    if up:
        policies = (Policy("Pods", 4, 15), Policy("Percent", 100, 15))
        window = 0
    else:
        policies = (Policy("Percent", 100, 15),)
        window = window_default
    select: Literal["Max", "Min", "Disabled"] = "Max"
    tol = tolerance
    if given is not None:
        if given.policies is not None:
            policies = tuple(Policy(p.type, p.value, p.periodSeconds) for p in given.policies)
        if given.stabilizationWindowSeconds is not None:
            window = given.stabilizationWindowSeconds
        if given.selectPolicy is not None:
            select = given.selectPolicy
        if given.tolerance is not None:
            tol = given.tolerance
    return Rules(window, select, policies, tol)


def resolve(
    spec: HorizontalPodAutoscalerSpec,
    *,
    name: str = "hpa",
    source: str = "<memory>",
    tolerance: float = DEFAULT_TOLERANCE,
    scale_down_window_default_s: int = DEFAULT_SCALE_DOWN_WINDOW_S,
) -> HpaSpec:
    """Fill in defaults: metrics default to CPU 80 %; behaviour defaults per direction."""
    metrics = tuple(spec.metrics) or (
        MetricSpec(
            type="Resource",
            resource=ResourceMetricSource(
                name="cpu", target=MetricTarget(type="Utilization", averageUtilization=80)
            ),
        ),
    )
    behavior = spec.behavior
    return HpaSpec(
        name=name,
        min_replicas=spec.minReplicas,
        max_replicas=spec.maxReplicas,
        metrics=metrics,
        scale_up=_rules(
            behavior.scaleUp if behavior else None,
            up=True,
            tolerance=tolerance,
            window_default=0,
        ),
        scale_down=_rules(
            behavior.scaleDown if behavior else None,
            up=False,
            tolerance=tolerance,
            window_default=scale_down_window_default_s,
        ),
        behavior_given=behavior is not None,
        source=source,
    )


def _metadata_name(document: dict[str, Any]) -> str | None:
    meta = document.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


def parse_spec(
    document: Any, source: str, *, name: str | None = None, doc: Document | None = None
) -> HpaSpec:
    """Validate one HPA document (a mapping); ConfigError lists every problem by key path."""
    if not isinstance(document, dict):
        raise ConfigError(source, ["the document is not a mapping"])
    problems: list[str] = []
    if document.get("kind") != "HorizontalPodAutoscaler":
        problems.append(f"kind: expected HorizontalPodAutoscaler, got {document.get('kind')!r}")
    api = document.get("apiVersion")
    if api != "autoscaling/v2":
        problems.append(f"apiVersion: expected autoscaling/v2, got {api!r}")
    raw_spec = document.get("spec")
    if not isinstance(raw_spec, dict):
        problems.append("spec: missing or not a mapping")
        raise ConfigError(source, problems)
    try:
        spec = HorizontalPodAutoscalerSpec.model_validate(raw_spec)
    except ValidationError as exc:
        problems += problems_of(exc, doc, prefix=("spec",), brackets=True)
        raise ConfigError(source, problems) from None
    if problems:
        raise ConfigError(source, problems)
    return resolve(spec, name=name or _metadata_name(document) or "hpa", source=source)


def load_hpa(path: str | Path, *, name: str | None = None) -> HpaSpec:
    """Read the HPA from a manifest (multi-document YAML allowed; pick by metadata.name if given)."""
    source = str(path)
    hpas = [
        d
        for d in load_documents(path)
        if isinstance(d.data, dict) and d.data.get("kind") == "HorizontalPodAutoscaler"
    ]
    if name is not None:
        hpas = [d for d in hpas if _metadata_name(d.data) == name]
    if not hpas:
        what = f" named {name!r}" if name else ""
        raise ConfigError(source, [f"kind: no HorizontalPodAutoscaler{what} in the file"])
    if len(hpas) > 1:
        raise ConfigError(source, ["kind: several HorizontalPodAutoscalers; choose one by name"])
    return parse_spec(hpas[0].data, source, doc=hpas[0])

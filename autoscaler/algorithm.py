"""The Kubernetes HPA v2 algorithm (horizontal.go + replica_calculator.go), pure and clock-free.

Per metric: desired = ceil(ratio x ready replicas) where ratio = current / target, skipped inside
the tolerance (10 %). Replicas are grouped as Kubernetes groups pods:
  - ``pending``: unready for every metric; ``terminating``/``failed``: ignored;
  - running but without a sample: *missing*;
  - CPU only: a running replica is also unready when not Ready, or, within the CPU
    initialisation period (300 s), when its sample does not cover one full window since it
    turned Ready; after that period only a never-Ready replica is unready.
On a scale-up, missing and unready replicas count as 0 usage; on a scale-down, missing ones count
as max(100 %, target) for utilisation and as the target for average values; unready ones are
left out. If filling them in crosses back inside the tolerance or reverses the direction, the
count stays. The maximum over metrics wins; invalid metrics block a scale-down (and everything
when all are invalid). Behaviour: stabilisation (min of the up-window's recommendations, max of
the down-window's), then the policies' rate limits from the replica-change history, then
min/max replicas. With no ``behavior`` block, the legacy rules apply (5 min down-stabilisation,
scale-up capped at max(2 x current, 4)).

Limits: utilisation is the mean of per-replica percentages (Kubernetes sums usage over summed
requests; equal per-replica requests make them the same). Time is whatever the caller passes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from autoscaler.spec import HpaSpec, MetricSpec

Phase = Literal["pending", "running", "terminating", "failed"]
LONG_AGO = -1e18


@dataclass(frozen=True)
class Replica:
    """One replica as the pod lister would show it. Times are on the caller's clock."""

    name: str
    phase: Phase = "running"
    ready: bool = True
    started_at: float | None = LONG_AGO
    ready_changed_at: float | None = LONG_AGO  # last transition of the Ready condition


@dataclass(frozen=True)
class Settings:
    """kube-controller-manager flags that shape the algorithm (defaults are Kubernetes')."""

    cpu_initialization_period_s: float = 300.0
    initial_readiness_delay_s: float = 30.0
    metric_window_s: float = 30.0  # the window a CPU sample covers (rate window)


def metric_key(metric: MetricSpec) -> str:
    """The per-replica sample key a MetricsSource must provide for this metric.

    Resource + Utilization -> ``<name>_utilization`` (percent of request);
    Resource + AverageValue -> ``<name>_usage`` (cores or bytes); Pods -> the metric's name.
    """
    if metric.resource is not None:
        suffix = "utilization" if metric.resource.target.type == "Utilization" else "usage"
        return f"{metric.resource.name}_{suffix}"
    assert metric.pods is not None
    return metric.pods.metric.name


class MetricUnavailable(Exception):
    """No usable samples for a metric (Kubernetes: FailedGetResourceMetric & co.)."""


@dataclass(frozen=True)
class Groups:
    ready: frozenset[str]
    unready: frozenset[str]
    missing: frozenset[str]
    ignored: frozenset[str]


def group_replicas(
    replicas: Iterable[Replica],
    samples: Mapping[str, float],
    *,
    cpu: bool,
    now: float,
    settings: Settings,
) -> Groups:
    """groupPods: ready (with a sample), unready, missing, ignored."""
    ready: set[str] = set()
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for r in replicas:
        if r.phase in ("terminating", "failed"):
            ignored.add(r.name)
            continue
        if r.phase == "pending":
            unready.add(r.name)
            continue
        if r.name not in samples:
            missing.add(r.name)
            continue
        if cpu:
            if r.started_at is None or r.ready_changed_at is None:
                is_unready = True
            elif r.started_at + settings.cpu_initialization_period_s > now:
                # the sample (ending now) must cover one full window after turning Ready
                is_unready = (not r.ready) or now < r.ready_changed_at + settings.metric_window_s
            else:
                # unready and never been Ready since start
                is_unready = (not r.ready) and (
                    r.started_at + settings.initial_readiness_delay_s > r.ready_changed_at
                )
            if is_unready:
                unready.add(r.name)
                continue
        ready.add(r.name)
    return Groups(frozenset(ready), frozenset(unready), frozenset(missing), frozenset(ignored))


@dataclass(frozen=True)
class MetricOutcome:
    metric: str
    key: str
    proposal: int | None  # None: invalid
    current: float | None  # utilisation (int percent) or average value
    target: float
    error: str | None = None


def _within(ratio: float, up_tol: float, down_tol: float) -> bool:
    return (1.0 - down_tol) <= ratio <= (1.0 + up_tol)


def _usage(values: Iterable[float], utilization: bool) -> float:
    vals = list(values)
    if utilization:
        # int32(metricsTotal * 100 / requestsTotal): truncated to a whole percent
        return float(math.floor(sum(vals) / len(vals)))
    # int64 milli-units divided by the pod count
    return math.floor(round(sum(v * 1000.0 for v in vals)) / len(vals)) / 1000.0


def replicas_for_metric(
    metric: MetricSpec,
    *,
    current_replicas: int,
    replicas: list[Replica],
    samples: Mapping[str, float],
    now: float,
    settings: Settings,
    up_tolerance: float,
    down_tolerance: float,
) -> MetricOutcome:
    """GetResourceReplicas / GetRawResourceReplicas / GetMetricReplicas for one metric."""
    key = metric_key(metric)
    utilization = metric.resource is not None and metric.resource.target.type == "Utilization"
    if metric.resource is not None:
        t = metric.resource.target
        target = float(t.averageUtilization if utilization else t.averageValue)  # type: ignore[arg-type]
        cpu = metric.resource.name == "cpu"
    else:
        assert metric.pods is not None and metric.pods.target.averageValue is not None
        target = metric.pods.target.averageValue
        cpu = False
    if not replicas:
        return MetricOutcome(metric.name, key, None, None, target, "no replicas to measure")
    usable = {k: v for k, v in samples.items() if v is not None and math.isfinite(v)}
    groups = group_replicas(replicas, usable, cpu=cpu, now=now, settings=settings)
    values = {name: usable[name] for name in groups.ready}
    if not values:
        return MetricOutcome(metric.name, key, None, None, target, "no samples for ready replicas")
    usage = _usage(values.values(), utilization)
    ratio = usage / target
    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if _within(ratio, up_tolerance, down_tolerance):
            return MetricOutcome(metric.name, key, current_replicas, usage, target)
        return MetricOutcome(metric.name, key, math.ceil(ratio * len(groups.ready)), usage, target)
    filled = dict(values)
    if groups.missing:
        if ratio < 1.0:
            fallback = max(100.0, target) if utilization else target
            filled.update({name: fallback for name in groups.missing})
        elif ratio > 1.0:
            filled.update({name: 0.0 for name in groups.missing})
    if scale_up_with_unready:
        filled.update({name: 0.0 for name in groups.unready})
    new_ratio = _usage(filled.values(), utilization) / target
    if (
        _within(new_ratio, up_tolerance, down_tolerance)
        or (ratio < 1.0 < new_ratio)
        or (ratio > 1.0 > new_ratio)
    ):
        return MetricOutcome(metric.name, key, current_replicas, usage, target)
    proposal = math.ceil(new_ratio * len(filled))
    if (new_ratio < 1.0 and proposal > current_replicas) or (
        new_ratio > 1.0 and proposal < current_replicas
    ):
        return MetricOutcome(metric.name, key, current_replicas, usage, target)
    return MetricOutcome(metric.name, key, proposal, usage, target)


@dataclass(frozen=True)
class Decision:
    """One reconcile: what the metrics asked for, what behaviour allowed, and why."""

    at: float
    current: int
    desired: int
    metric_desired: int | None  # before behaviour; None when metrics blocked the cycle
    stabilized: int | None
    reason: str
    limit: str  # DesiredWithinRange | ScaleUpLimit | ScaleDownLimit | TooManyReplicas | ...
    outcomes: tuple[MetricOutcome, ...] = ()

    @property
    def rescale(self) -> bool:
        return self.desired != self.current

    def sentence(self, region: str) -> str:
        parts = ", ".join(
            f"{o.key}={o.current:g}/{o.target:g}->{o.proposal}"
            if o.proposal is not None
            else f"{o.key}: {o.error}"
            for o in self.outcomes
        )
        verb = f"scale {self.current} -> {self.desired}" if self.rescale else f"keep {self.current}"
        limited = "" if self.limit == "DesiredWithinRange" else f", limited by {self.limit}"
        extra = f" [{parts}]" if parts else ""
        return f"{region}: {verb} ({self.reason}{limited}){extra}"


@dataclass
class _Event:
    at: float
    change: int


@dataclass
class HorizontalAutoscaler:
    """The controller's per-HPA memory (recommendations, scale events) and its reconcile step."""

    spec: HpaSpec
    settings: Settings = field(default_factory=Settings)
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    scale_up_events: list[_Event] = field(default_factory=list)
    scale_down_events: list[_Event] = field(default_factory=list)

    # -- metrics -------------------------------------------------------------------------

    def compute_metric_replicas(
        self,
        *,
        now: float,
        current_replicas: int,
        replicas: list[Replica],
        samples: Mapping[str, Mapping[str, float]],
    ) -> tuple[int | None, str, tuple[MetricOutcome, ...]]:
        """computeReplicasForMetrics: max over valid metrics; None when invalid ones block."""
        outcomes: list[MetricOutcome] = []
        best: int | None = None
        best_name = ""
        for metric in self.spec.metrics:
            key = metric_key(metric)
            per_replica = {name: values[key] for name, values in samples.items() if key in values}
            outcome = replicas_for_metric(
                metric,
                current_replicas=current_replicas,
                replicas=replicas,
                samples=per_replica,
                now=now,
                settings=self.settings,
                up_tolerance=self.spec.scale_up.tolerance,
                down_tolerance=self.spec.scale_down.tolerance,
            )
            outcomes.append(outcome)
            if outcome.proposal is not None and (best is None or outcome.proposal > best):
                best, best_name = outcome.proposal, outcome.metric
        invalid = sum(1 for o in outcomes if o.proposal is None)
        if invalid >= len(outcomes) or (invalid and best is not None and best < current_replicas):
            return None, "", tuple(outcomes)
        return best, best_name, tuple(outcomes)

    # -- behaviour -----------------------------------------------------------------------

    def _stabilize(self, now: float, current: int, desired: int) -> int:
        up_cutoff = now - self.spec.scale_up.stabilization_window_s
        down_cutoff = now - self.spec.scale_down.stabilization_window_s
        up_rec = desired
        down_rec = desired
        for at, rec in self.recommendations:
            if at > up_cutoff:
                up_rec = min(rec, up_rec)
            if at > down_cutoff:
                down_rec = max(rec, down_rec)
        recommendation = max(current, up_rec)
        recommendation = min(recommendation, down_rec)
        self.recommendations = [
            (at, rec)
            for at, rec in self.recommendations
            if not (at < up_cutoff and at < down_cutoff)
        ]
        self.recommendations.append((now, desired))
        return recommendation

    @staticmethod
    def _changed_within(events: list[_Event], now: float, period_s: int) -> int:
        cutoff = now - period_s
        return sum(e.change for e in events if e.at > cutoff)

    def scale_up_limit(self, now: float, current: int) -> int:
        """calculateScaleUpLimitWithScalingRules."""
        rules = self.spec.scale_up
        if rules.select_policy == "Disabled":
            return current
        proposals = []
        for p in rules.policies:
            start = (
                current
                - self._changed_within(self.scale_up_events, now, p.period_s)
                + self._changed_within(self.scale_down_events, now, p.period_s)
            )
            if p.type == "Pods":
                proposals.append(start + p.value)
            else:
                proposals.append(math.ceil(start * (1 + p.value / 100)))
        return (min if rules.select_policy == "Min" else max)(proposals)

    def scale_down_limit(self, now: float, current: int) -> int:
        """calculateScaleDownLimitWithBehaviors."""
        rules = self.spec.scale_down
        if rules.select_policy == "Disabled":
            return current
        proposals = []
        for p in rules.policies:
            start = (
                current
                - self._changed_within(self.scale_up_events, now, p.period_s)
                + self._changed_within(self.scale_down_events, now, p.period_s)
            )
            if p.type == "Pods":
                proposals.append(start - p.value)
            else:
                proposals.append(int(start * (1 - p.value / 100)))
        return (max if rules.select_policy == "Min" else min)(proposals)

    def _rate_limit(self, now: float, current: int, desired: int) -> tuple[int, str]:
        spec = self.spec
        if desired > current:
            limit = max(self.scale_up_limit(now, current), current)
            if spec.max_replicas > limit:
                allowed, why = limit, "ScaleUpLimit"
            else:
                allowed, why = spec.max_replicas, "TooManyReplicas"
            if desired > allowed:
                return allowed, why
        elif desired < current:
            limit = min(self.scale_down_limit(now, current), current)
            if spec.min_replicas < limit:
                allowed, why = limit, "ScaleDownLimit"
            else:
                allowed, why = spec.min_replicas, "TooFewReplicas"
            if desired < allowed:
                return allowed, why
        return desired, "DesiredWithinRange"

    def _legacy(self, now: float, current: int, desired: int) -> tuple[int, int, str]:
        window = self.spec.scale_down.stabilization_window_s
        cutoff = now - window
        stabilized = max([desired] + [r for at, r in self.recommendations if at >= cutoff])
        self.recommendations = [(at, r) for at, r in self.recommendations if at >= cutoff]
        self.recommendations.append((now, desired))
        up_limit = int(max(2.0 * current, 4.0))
        if self.spec.max_replicas > up_limit:
            max_allowed, why_max = up_limit, "ScaleUpLimit"
        else:
            max_allowed, why_max = self.spec.max_replicas, "TooManyReplicas"
        if stabilized < self.spec.min_replicas:
            return stabilized, self.spec.min_replicas, "TooFewReplicas"
        if stabilized > max_allowed:
            return stabilized, max_allowed, why_max
        return stabilized, stabilized, "DesiredWithinRange"

    # -- one reconcile -------------------------------------------------------------------

    def reconcile(
        self,
        *,
        now: float,
        current_replicas: int,
        replicas: list[Replica],
        samples: Mapping[str, Mapping[str, float]],
    ) -> Decision:
        """reconcileAutoscaler without the API calls. Call `scaled` once the scale happened."""
        spec = self.spec
        if not self.recommendations:
            # recordInitialRecommendation: a fresh controller remembers the current size
            self.recommendations.append((now, current_replicas))
        out_of_range = self._out_of_range(now, current_replicas)
        if out_of_range is not None:
            return out_of_range
        metric_desired, metric_name, outcomes = self.compute_metric_replicas(
            now=now, current_replicas=current_replicas, replicas=replicas, samples=samples
        )
        if metric_desired is None:
            errors = "; ".join(f"{o.key}: {o.error}" for o in outcomes if o.error)
            return Decision(
                now,
                current_replicas,
                current_replicas,
                None,
                None,
                f"invalid metrics, not scaling ({errors})",
                "InvalidMetrics",
                outcomes,
            )
        if metric_desired > current_replicas:
            reason = f"{metric_name} above target"
        elif metric_desired < current_replicas:
            reason = "all metrics below target"
        else:
            reason = "metrics within tolerance of target"
        if spec.behavior_given:
            stabilized = self._stabilize(now, current_replicas, metric_desired)
            desired, limit = self._rate_limit(now, current_replicas, stabilized)
        else:
            stabilized, desired, limit = self._legacy(now, current_replicas, metric_desired)
        if stabilized != metric_desired:
            reason += ", held by the stabilization window"
        return Decision(
            now, current_replicas, desired, metric_desired, stabilized, reason, limit, outcomes
        )

    def _out_of_range(self, now: float, current: int) -> Decision | None:
        """The decisions taken before any metric: scaled to 0, or outside min/max."""
        spec = self.spec
        if current == 0 and spec.min_replicas != 0:
            return Decision(
                now, 0, 0, None, None, "scaling disabled at 0 replicas", "ScalingDisabled"
            )
        if current > spec.max_replicas:
            why = "current replicas above maxReplicas"
            return Decision(now, current, spec.max_replicas, None, None, why, "TooManyReplicas")
        if current < spec.min_replicas:
            why = "current replicas below minReplicas"
            return Decision(now, current, spec.min_replicas, None, None, why, "TooFewReplicas")
        return None

    def scaled(self, now: float, previous: int, new: int) -> None:
        """storeScaleEvent: remember a successful change for the policies' periods."""
        if new == previous or not self.spec.behavior_given:
            return
        if new > previous:
            keep = self.spec.scale_up.longest_period_s
            self.scale_up_events = [e for e in self.scale_up_events if e.at >= now - keep]
            self.scale_up_events.append(_Event(now, new - previous))
        else:
            keep = self.spec.scale_down.longest_period_s
            self.scale_down_events = [e for e in self.scale_down_events if e.at >= now - keep]
            self.scale_down_events.append(_Event(now, previous - new))

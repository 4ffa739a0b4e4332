"""The typed results of one run (schema `gameday.results/1`, see docs/slo.md).

Measurements, verdicts and run identity in one pydantic tree, written as
`results.json`. Per-second series used by the plots ride along in a private
attribute and are not serialised (re-rendering recomputes them from the run folder).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

RESULTS_SCHEMA: Literal["gameday.results/1"] = "gameday.results/1"
Status = Literal["pass", "fail", "inconclusive", "not_applicable"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FaultInfo(_Model):
    kind: str = "fault.injected"
    target: str | None = None
    t_wall: float
    t_mono: float
    rolled_back_wall: float | None = None
    rolled_back_mono: float | None = None
    surviving_regions: list[str] | None = Field(default=None, description="None: any region counts")
    faults_injected: int = 1


class RecoveryMeasure(_Model):
    """Failover time or RTO: fault -> start of a sustained window of good probes."""

    value_s: float | None = None
    lower_bound_s: float | None = Field(
        default=None, description="set when recovery was not observed"
    )
    recovered_at_wall: float | None = None
    resolution_s: float | None = Field(
        default=None, description="gap between last bad and first good probe"
    )
    probe_kinds: list[str]
    sustained_window_s: float
    probes_after_fault: int = 0
    failed_probes_after_fault: int = 0
    first_failure_s: float | None = None
    last_failure_s: float | None = None
    disruption_observed: bool = False
    note: str = ""


class PhaseSpan(_Model):
    """One step of the failover timeline, in seconds after the fault."""

    name: str
    start_s: float
    end_s: float
    source: str


class Loss(_Model):
    """One loss: consecutive lost acknowledged writes (in ack order, no kept write between)."""

    count: int
    first_seq: int
    last_seq: int
    first_ack_wall: float
    last_ack_wall: float
    span_s: float = Field(description="RPO of this loss (DESIGN.md): acks covered, > 0")
    before_fault: int = 0
    after_fault: int = 0
    first_ack_after_fault_s: float | None = None
    last_ack_after_fault_s: float | None = None
    leaders: list[str] = Field(
        default_factory=list, description="database leaders (events) while these were acked"
    )
    discarded_by: str | None = Field(
        default=None, description="the leader change after the loss that discarded it"
    )


class DataLoss(_Model):
    client: str | None = None
    writes: int = 0
    acknowledged: int = 0
    lost: int = 0
    lost_seqs_sample: list[int] = Field(default_factory=list)
    indeterminate: int = 0
    indeterminate_present: int = 0
    failed: int = 0
    failed_but_present: int = 0
    rpo_s: float | None = None
    earliest_lost_seq: int | None = None
    earliest_lost_ack_wall: float | None = None
    last_kept_seq: int | None = None
    last_kept_ack_wall: float | None = None
    fault_wall: float | None = None
    lost_before_fault: int = 0
    lost_after_fault: int = 0
    lost_unclassified: int = Field(default=0, description="lost with no fault recorded")
    lost_before_fault_ack_s: list[float] | None = Field(
        default=None,
        description="[earliest, latest] ack of those lost before the fault, s after it",
    )
    lost_after_fault_ack_s: list[float] | None = Field(
        default=None, description="[earliest, latest] ack of those lost after the fault, s after it"
    )
    losses: list[Loss] = Field(default_factory=list)
    ack_resolution_s: float | None = Field(
        default=None, description="median gap between acks: the ledger's time resolution"
    )
    note: str = ""


class LatencyStats(_Model):
    count: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None


class PhaseLatency(_Model):
    name: str
    start_wall: float
    end_wall: float
    seconds_with_traffic: int = Field(description="judged seconds: request seconds in the phase")
    planned_s: int | None = Field(
        default=None, description="request seconds the phase spans (its planned window)"
    )
    coverage: float | None = Field(
        default=None, description="judged / planned seconds; under 0.8 the phase is inconclusive"
    )
    all: LatencyStats
    endpoints: dict[str, LatencyStats]
    checked: dict[str, float | None] = Field(
        default_factory=dict, description="threshold text -> measured value in ms"
    )


class Traffic(_Model):
    requests: int = 0
    ok: int = 0
    client_errors_4xx: int = 0
    server_errors: int = Field(default=0, description="5xx, timeouts, connection errors")
    late: int = Field(default=0, description="open model: could not be sent on time (excluded)")
    availability: float | None = None
    error_rate: float | None = None
    duration_s: int = 0
    mean_rps: float | None = None
    peak_rps: float | None = Field(default=None, description="best rolling mean of ok req/s")
    peak_window_s: int = 30
    peak_window_start_wall: float | None = None
    outcomes: dict[str, int] = Field(default_factory=dict)


class ScaleStep(_Model):
    t_wall: float
    users: int | None = None
    rate: float | None = None
    desired: dict[str, int] = Field(default_factory=dict)
    replicas_ready_wall: float | None = None
    p95_ok_wall: float | None = None
    scale_time_s: float | None = None
    lower_bound_s: float | None = None
    note: str = ""


class ErrorBudget(_Model):
    availability_target: float
    window_days: float
    budget_s: float
    outage_s: float | None = None
    budget_used_pct: float | None = None
    request_error_ratio: float | None = None
    burn_rate: float | None = None
    sentence: str


class Measurements(_Model):
    fault: FaultInfo | None = None
    failover: RecoveryMeasure | None = None
    rto: RecoveryMeasure | None = None
    failover_timeline: list[PhaseSpan] = Field(default_factory=list)
    data: DataLoss | None = None
    phases: list[PhaseLatency] = Field(default_factory=list)
    endpoints: dict[str, LatencyStats] = Field(default_factory=dict)
    traffic: Traffic | None = None
    scale: list[ScaleStep] = Field(default_factory=list)
    error_budget: ErrorBudget | None = None


class Window(_Model):
    start_wall: float | None = None
    end_wall: float | None = None


class SloResult(_Model):
    id: str
    title: str
    threshold: str
    status: Status
    value: float | None = None
    unit: str = ""
    value_is_lower_bound: bool = Field(
        default=False, description="recovery not observed: value is a lower bound"
    )
    message: str
    window: Window = Field(default_factory=Window)
    evidence: dict[str, Any] = Field(default_factory=dict)


class RunInfo(_Model):
    name: str
    run_dir: str
    profile: str | None = None
    target: str | None = None
    scenario: str | None = None
    experiment: str | None = None
    expect: Literal["hold", "breach"] = "hold"
    started_wall: float | None = None
    ended_wall: float | None = None


class Verdict(_Model):
    status: Literal["pass", "fail", "inconclusive"]
    exit_code: int
    summary: str


class Series(BaseModel):
    """Per-second data for the plots (wall seconds)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    t: list[int] = Field(default_factory=list)
    p50_ms: list[float | None] = Field(default_factory=list)
    p95_ms: list[float | None] = Field(default_factory=list)
    p99_ms: list[float | None] = Field(default_factory=list)
    ok: list[int] = Field(default_factory=list)
    errors: list[int] = Field(default_factory=list)


class Results(_Model):
    schema_: Literal["gameday.results/1"] = Field(default=RESULTS_SCHEMA, alias="schema")
    generated_wall: float
    gameday_version: str
    run: RunInfo
    spec: dict[str, Any]
    verdict: Verdict
    slos: list[SloResult]
    measurements: Measurements
    notes: list[str] = Field(default_factory=list)
    _series: Series | None = PrivateAttr(default=None)
    _data: Any = PrivateAttr(default=None)  # the RunData it was measured from (render reuses it)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)

    def slo(self, slo_id: str) -> SloResult:
        for item in self.slos:
            if item.id == slo_id:
                return item
        raise KeyError(slo_id)

"""The failover controller's configuration: one YAML file, validated up front.

Every problem is reported at once with the file and the key path
(`regions.primary.health_url: ...`). Secrets (the Slack webhook URL, the
Cloudflare token) are never in the file: the file names an environment
variable (`*_env`) or a file (`*_file`) holding them, and they are kept as
`SecretStr`, so they never reach a log line or `/status`.
Times are seconds (`_s`), wall-clock cooldowns compare `time.time()` values.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from bedrock.errors import ConfigError
from bedrock.loader import Document, load_document, read_text
from bedrock.models import validate
from bedrock.names import RegionName


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class SecretRef(_Model):
    """Where a secret lives: an environment variable or a file (first line)."""

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env or file")
        return self

    def resolve(self, key: str) -> SecretStr:
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigError("environment", [f"{key}.env: variable {self.env} is not set"])
            return SecretStr(value.strip())
        assert self.file is not None
        try:
            return SecretStr(read_text(self.file, max_bytes=64 * 1024).strip())
        except ConfigError as exc:
            raise ConfigError(exc.source, [f"{key}.file: {p}" for p in exc.problems]) from None


class Region(_Model):
    health_url: str = Field(pattern=r"^https?://")
    target_replicas: int = Field(default=3, ge=1, le=1000, description="replicas after a failover into it")


class Detection(_Model):
    timeout_s: float = Field(default=0.8, gt=0, le=10)
    down_after: int = Field(default=3, ge=1, le=1000, description="consecutive failed probes -> down")
    up_after: int = Field(default=3, ge=1, le=1000, description="consecutive good probes -> up")
    history: int = Field(default=60, ge=1, le=100_000, description="probes kept per region for /status")


class Policy(_Model):
    cooldown_s: float = Field(default=120.0, ge=0, le=86_400, description="min time between two switches")
    failback: Literal["manual", "auto"] = "manual"
    failback_healthy_s: float = Field(
        default=60.0, ge=0, le=86_400, description="home healthy this long -> auto failback"
    )
    ready_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    ready_poll_s: float = Field(default=0.5, gt=0, le=60)
    scale_down_source: bool = False
    retry_failed_after_s: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="wait after a failover that failed before moving traffic",
    )
    step_attempts: int = Field(default=3, ge=1, le=100)
    step_retry_s: float = Field(default=0.5, ge=0, le=60)


class HAProxySwitchConfig(_Model):
    kind: Literal["haproxy"]
    socket: Path
    backend: str = "be_regions"
    shutdown_sessions: bool = Field(default=True, description="cut connections to the old region")
    timeout_s: float = Field(default=2.0, gt=0, le=60)


class CloudflareSwitchConfig(_Model):
    kind: Literal["cloudflare"]
    api_base: str = Field(default="https://api.cloudflare.com/client/v4", pattern=r"^https?://")
    token: SecretRef
    zone_id: str = Field(min_length=1)
    record_name: str = Field(min_length=1)
    record_type: Literal["A", "AAAA", "CNAME"] = "A"
    contents: dict[str, str] = Field(description="region -> record content (IP or hostname)")
    timeout_s: float = Field(default=5.0, gt=0, le=60)


class IngressSwitchConfig(_Model):
    kind: Literal["k8s_ingress"]
    namespace: str
    ingress: str
    services: dict[str, str] = Field(description="region -> Service name behind the Ingress")


SwitchConfig = Annotated[
    HAProxySwitchConfig | CloudflareSwitchConfig | IngressSwitchConfig, Field(discriminator="kind")
]


class NoScalerConfig(_Model):
    kind: Literal["none"]


class LocalScalerConfig(_Model):
    kind: Literal["local"]
    factory: str = Field(
        pattern=r"^[\w.]+:[\w.]+$", description="module:callable returning the stack control"
    )
    options: dict[str, Any] = Field(default_factory=dict)


class K8sScalerConfig(_Model):
    kind: Literal["kubernetes"]
    namespace: str
    deployments: dict[str, str] = Field(description="region -> Deployment name")


ScalerConfig = Annotated[
    NoScalerConfig | LocalScalerConfig | K8sScalerConfig, Field(discriminator="kind")
]


class LogNotifierConfig(_Model):
    kind: Literal["log"]


class SlackNotifierConfig(_Model):
    kind: Literal["slack"]
    webhook_url: SecretRef
    timeout_s: float = Field(default=3.0, gt=0, le=60)


NotifierConfig = Annotated[LogNotifierConfig | SlackNotifierConfig, Field(discriminator="kind")]


class NoLockConfig(_Model):
    kind: Literal["none"]
    state_file: Path | None = Field(
        default=None, description="single controller: where state survives restarts"
    )


class EtcdLockConfig(_Model):
    kind: Literal["etcd"]
    endpoints: list[Annotated[str, Field(pattern=r"^https?://")]] = Field(min_length=1)
    prefix: str = "/gameday/failover"
    ttl_s: int = Field(default=5, ge=2, le=300)
    timeout_s: float = Field(default=1.0, gt=0, le=60)


class K8sLeaseLockConfig(_Model):
    kind: Literal["kubernetes"]
    namespace: str
    name: str = "gameday-failover"
    lease_duration_s: int = Field(default=10, ge=2, le=300)


LockConfig = Annotated[
    NoLockConfig | EtcdLockConfig | K8sLeaseLockConfig, Field(discriminator="kind")
]


class KubernetesConfig(_Model):
    """How to reach the cluster. `host` is for a known API URL (tests, proxies)."""

    in_cluster: bool = False
    kubeconfig: Path | None = None
    context: str | None = None
    allowed_contexts: list[str] = Field(default_factory=list)
    host: str | None = None


class Listen(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)


def _default_notifiers() -> list[NotifierConfig]:
    return [LogNotifierConfig(kind="log")]


class FailoverConfig(_Model):
    identity: str = Field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    period_s: float = Field(default=1.0, gt=0, le=60)
    listen: Listen | None = Field(default_factory=Listen)
    events_path: Path | None = None
    regions: dict[RegionName, Region] = Field(min_length=2, max_length=16)
    home_region: str
    detection: Detection = Field(default_factory=Detection)
    policy: Policy = Field(default_factory=Policy)
    traffic: SwitchConfig
    load_balancer: SwitchConfig | None = None
    scaler: ScalerConfig = Field(default_factory=lambda: NoScalerConfig(kind="none"))
    notifiers: list[NotifierConfig] = Field(default_factory=lambda: _default_notifiers())
    lock: LockConfig = Field(default_factory=lambda: NoLockConfig(kind="none"))
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)

    @model_validator(mode="after")
    def _cross_checks(self) -> FailoverConfig:
        problems: list[str] = []
        names = set(self.regions)
        if self.home_region not in names:
            problems.append(
                f"home_region: {self.home_region!r} is not one of regions {sorted(names)}"
            )
        for key, sw in (("traffic", self.traffic), ("load_balancer", self.load_balancer)):
            mapping = getattr(sw, "contents", None) or getattr(sw, "services", None)
            if mapping is not None and set(mapping) != names:
                field = "contents" if hasattr(sw, "contents") else "services"
                problems.append(f"{key}.{field}: must name exactly the regions {sorted(names)}")
        deps = getattr(self.scaler, "deployments", None)
        if deps is not None and set(deps) != names:
            problems.append(f"scaler.deployments: must name exactly the regions {sorted(names)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def region_names(self) -> list[str]:
        """Regions in failover priority order: the file's order."""
        return list(self.regions)


def parse_config(
    data: Any, source: str = "<config>", doc: Document | None = None
) -> FailoverConfig:
    return validate(FailoverConfig, doc if doc is not None else Document(data, source))


def load_config(path: str | Path) -> FailoverConfig:
    doc = load_document(path)
    return parse_config(doc.data, str(path), doc)

"""The `--target k8s` configuration file: one kube context and API Deployment per region."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field

from bedrock.models import STRICT, load_model
from bedrock.names import RegionName

# a Kubernetes object name (DNS-1123 subdomain) and an http(s) URL with no spaces
K8S_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
HTTP_URL = r"^https?://[^\s]+$"


class RegionSettings(BaseModel):
    """One region: its cluster (kube context) and the API Deployment in it."""

    model_config = STRICT
    context: str | None = Field(None, description="kube context; default: current-context")
    deployment: str = Field(
        pattern=K8S_NAME, description="the API Deployment, e.g. twinme-api-primary"
    )
    api_selector: str | None = Field(
        None, description="label selector of the API pods; default app=twinme-api,region=<region>"
    )
    failover_lease: str = Field(
        "twinme-failover", pattern=K8S_NAME, description="the controllers' Lease"
    )
    controller_selector: str = Field("app=failover-controller")
    postgres_primary_selector: str = Field(
        "cnpg.io/cluster=twinme-postgres,cnpg.io/instanceRole=primary"
    )


class TargetSettings(BaseModel):
    """The `--target k8s` configuration file (the first region is the home region)."""

    model_config = STRICT
    namespace: str = Field("twinme-prod", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    kubeconfig: Path | None = Field(None, description="default: $KUBECONFIG or ~/.kube/config")
    entry_url: str = Field(
        pattern=HTTP_URL, description="what clients use, e.g. https://api.twinme.ai"
    )
    prometheus_url: str = Field(pattern=HTTP_URL)
    locust_url: str | None = Field(
        None, pattern=HTTP_URL, description="the in-cluster Locust master's web API"
    )
    controller_urls: list[Annotated[str, Field(pattern=HTTP_URL)]] = Field(
        default_factory=list,
        max_length=16,
        description="the failover controllers' HTTP endpoints (GET /status): their events "
        "join each run's events.jsonl",
    )
    regions: dict[RegionName, RegionSettings] = Field(min_length=1, max_length=16)

    def api_selector(self, region: str) -> str:
        """The region's API pods. Both regions may share a namespace (the dev overlay),
        so the default selects on the `region` label too."""
        return self.regions[region].api_selector or f"app=twinme-api,region={region}"


def load_settings(path: Path) -> TargetSettings:
    """The target file, validated; ConfigError lists every problem with its key."""
    return load_model(path, TargetSettings, empty_ok=True)

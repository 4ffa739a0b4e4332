"""Kube configuration for the Kubernetes target's tests: a kubeconfig with three contexts
(`prod-eu-west-3`, `prod-eu-central-1`, `kind-dev`) whose clusters are at 127.0.8.1:PORT,
and a two-region target on it. Test infrastructure; no server here."""

from __future__ import annotations

from pathlib import Path

import yaml

from gameday.targets.k8s_settings import TargetSettings


def kubeconfig_file(path: Path, port: int, current: str | None = "prod-eu-west-3") -> Path:
    clusters = ["prod-eu-west-3", "prod-eu-central-1", "kind-dev"]
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": c,
                "cluster": {
                    "server": f"https://127.0.8.1:{port}",
                    "insecure-skip-tls-verify": True,
                },
            }
            for c in clusters
        ],
        "users": [{"name": "u", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": c, "context": {"cluster": c, "user": "u"}} for c in clusters],
    }
    if current:
        data["current-context"] = current
    path.write_text(yaml.safe_dump(data))
    return path


def two_regions(kubeconfig: Path, primary: str | None = "prod-eu-west-3") -> TargetSettings:
    return TargetSettings.model_validate(
        {
            "kubeconfig": str(kubeconfig),
            "entry_url": "https://api.twinme.ai",
            "prometheus_url": "https://prom.example",
            "regions": {
                "primary": {"context": primary, "deployment": "twinme-api-primary"},
                "secondary": {"context": "prod-eu-central-1", "deployment": "twinme-api-secondary"},
            },
        }
    )

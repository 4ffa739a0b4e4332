"""Kubernetes backends: Ingress switch and Deployment scaler (official `kubernetes` client).

- `IngressSwitch` points every path of one Ingress at the target region's
  Service. It reads the Ingress, rewrites the backends and patches with the
  `resourceVersion` it read, so a concurrent edit makes the API answer 409
  (retryable) instead of being overwritten.
- `DeploymentScaler` scales through the `scale` subresource and reads
  `status.readyReplicas` from the Deployment.
`make_api_client()` builds the client from the config and refuses a kube context
that is not on `allowed_contexts` (when that list is given).
Every `ApiException` / transport error becomes the backend's base error.
"""

from __future__ import annotations

from typing import Any

from bedrock.errors import InputError
from failover.backends.base import Scaler, TrafficSwitch
from failover.config import KubernetesConfig
from failover.errors import FailoverError, ScalerError, TrafficSwitchError


def make_api_client(cfg: KubernetesConfig) -> Any:
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    if cfg.host:
        conf = client.Configuration()
        conf.host = cfg.host
        return client.ApiClient(conf)
    try:
        if cfg.in_cluster:
            config.load_incluster_config()
            return client.ApiClient()
        path = str(cfg.kubeconfig) if cfg.kubeconfig else None
        _, current = config.list_kube_config_contexts(config_file=path)
        name = cfg.context or (current or {}).get("name")
        if cfg.allowed_contexts and name not in cfg.allowed_contexts:
            raise InputError(
                f"kubernetes.context: {name!r} is not in allowed_contexts {cfg.allowed_contexts}"
            )
        return config.new_client_from_config(config_file=path, context=name)
    except ConfigException as exc:
        raise InputError(f"kubernetes: cannot load the cluster config: {exc}") from exc


def _wrap(exc: Exception, what: str, err: type[FailoverError]) -> FailoverError:
    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, ApiException):
        retryable = exc.status in (409, 429) or (exc.status or 0) >= 500
        return err(f"{what}: HTTP {exc.status} {exc.reason}", retryable=retryable)
    return err(f"{what}: {type(exc).__name__}: {exc}")


class IngressSwitch(TrafficSwitch):
    name = "k8s_ingress"

    def __init__(
        self, api_client: Any, namespace: str, ingress: str, services: dict[str, str]
    ) -> None:
        from kubernetes import client

        self.api = client.NetworkingV1Api(api_client)
        self.namespace = namespace
        self.ingress = ingress
        self.services = services

    def _read(self) -> Any:
        try:
            return self.api.read_namespaced_ingress(self.ingress, self.namespace)
        except Exception as exc:
            raise _wrap(
                exc, f"read ingress {self.namespace}/{self.ingress}", TrafficSwitchError
            ) from exc

    def switch_to(self, region: str) -> None:
        if region not in self.services:
            raise TrafficSwitchError(f"ingress: no Service for region {region!r}", retryable=False)
        ing = self._read()
        service = self.services[region]
        raw = self.api.api_client.sanitize_for_serialization(ing)
        spec = raw.get("spec", {})
        changed = False
        default = spec.get("defaultBackend", {}).get("service")
        if default is not None and default.get("name") != service:
            default["name"] = service
            changed = True
        for rule in spec.get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                svc = path.get("backend", {}).get("service")
                if svc is not None and svc.get("name") != service:
                    svc["name"] = service
                    changed = True
        if not changed:
            return
        patch = {"metadata": {"resourceVersion": ing.metadata.resource_version}, "spec": spec}
        try:
            self.api.patch_namespaced_ingress(
                self.ingress, self.namespace, patch, _content_type="application/merge-patch+json"
            )
        except Exception as exc:
            raise _wrap(
                exc, f"patch ingress {self.namespace}/{self.ingress}", TrafficSwitchError
            ) from exc

    def current(self) -> str | None:
        raw = self.api.api_client.sanitize_for_serialization(self._read())
        spec = raw.get("spec", {})
        names = set()
        if spec.get("defaultBackend", {}).get("service"):
            names.add(spec["defaultBackend"]["service"]["name"])
        for rule in spec.get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                if path.get("backend", {}).get("service"):
                    names.add(path["backend"]["service"]["name"])
        regions = [r for r, s in self.services.items() if s in names]
        return regions[0] if len(names) == 1 and len(regions) == 1 else None


class DeploymentScaler(Scaler):
    name = "k8s_deployment"

    def __init__(self, api_client: Any, namespace: str, deployments: dict[str, str]) -> None:
        from kubernetes import client

        self.api = client.AppsV1Api(api_client)
        self.namespace = namespace
        self.deployments = deployments

    def _name(self, region: str) -> str:
        try:
            return self.deployments[region]
        except KeyError:
            raise ScalerError(f"no Deployment for region {region!r}", retryable=False) from None

    def scale(self, region: str, replicas: int) -> None:
        name = self._name(region)
        try:
            self.api.patch_namespaced_deployment_scale(
                name,
                self.namespace,
                {"spec": {"replicas": replicas}},
                _content_type="application/merge-patch+json",
            )
        except Exception as exc:
            raise _wrap(exc, f"scale deployment {self.namespace}/{name}", ScalerError) from exc

    def ready_replicas(self, region: str) -> int:
        name = self._name(region)
        try:
            dep = self.api.read_namespaced_deployment_status(name, self.namespace)
        except Exception as exc:
            raise _wrap(exc, f"read deployment {self.namespace}/{name}", ScalerError) from exc
        return int((dep.status and dep.status.ready_replicas) or 0)

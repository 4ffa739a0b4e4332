"""The Kubernetes API server fake, driven by the real `kubernetes` client over real HTTP (others
reuse the fake). Its pure parts (label selectors, patches) are tested in tests/unit."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.support.failover_support import wait_for
from tests.support.fakes.kube_apiserver import FakeKubeApiServer

NS = "twinme-prod"


@pytest.fixture
def kube():
    with FakeKubeApiServer(ready_delay_s=0.0) as fake:
        yield fake


def deployment(name: str, replicas: int) -> client.V1Deployment:
    labels = {"app": name, "tier": "api"}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="api", image="api:1")]),
            ),
        ),
    )


def test_create_scale_replace_and_json_patch(kube):
    apps = client.AppsV1Api(kube.api_client())
    created = apps.create_namespaced_deployment(NS, deployment("api", 2))
    assert created.metadata.uid and created.metadata.resource_version
    with pytest.raises(ApiException) as err:
        apps.create_namespaced_deployment(NS, deployment("api", 2))
    assert err.value.status == 409 and '"AlreadyExists"' in err.value.body
    wait_for(
        lambda: apps.read_namespaced_deployment_status("api", NS).status.ready_replicas == 2,
        5,
        "ready",
    )
    scale = apps.read_namespaced_deployment_scale("api", NS)
    assert scale.spec.replicas == 2 and scale.status.selector == "app=api,tier=api"
    scale.spec.replicas = 5
    assert apps.replace_namespaced_deployment_scale("api", NS, scale).spec.replicas == 5
    scale.spec.replicas = 6  # stale resourceVersion
    with pytest.raises(ApiException) as err:
        apps.replace_namespaced_deployment_scale("api", NS, scale)
    assert err.value.status == 409
    apps.patch_namespaced_deployment(
        "api", NS, [{"op": "replace", "path": "/spec/replicas", "value": 1}]
    )
    dep = apps.read_namespaced_deployment("api", NS)
    assert dep.spec.replicas == 1 and dep.metadata.generation == 3
    assert [d.metadata.name for d in apps.list_namespaced_deployment(NS).items] == ["api"]


def test_pods_follow_the_deployment_and_are_recreated_after_delete(kube):
    kube.add_deployment(NS, "api-primary", 3, {"app": "api", "region": "primary"})
    kube.add_deployment(NS, "api-secondary", 1, {"app": "api", "region": "secondary"})
    core = client.CoreV1Api(kube.api_client())
    assert len(core.list_namespaced_pod(NS, label_selector="app=api").items) == 4
    primary = core.list_namespaced_pod(NS, label_selector="region=primary").items
    assert len(primary) == 3
    core.delete_namespaced_pod(primary[0].metadata.name, NS)
    again = core.list_namespaced_pod(NS, label_selector="region in (primary)").items
    assert len(again) == 3 and primary[0].metadata.name not in {p.metadata.name for p in again}
    assert len(core.list_namespaced_pod(NS, label_selector="region notin (primary)").items) == 1
    with pytest.raises(ApiException) as err:
        core.delete_namespaced_pod("nope", NS)
    assert err.value.status == 404


def test_unknown_resource_and_auth(kube):
    with FakeKubeApiServer(token="s3cret") as secured:
        with pytest.raises(ApiException) as err:
            client.CoreV1Api(client.ApiClient(_conf(secured.url))).list_namespaced_pod(NS)
        assert err.value.status == 401
        assert client.CoreV1Api(secured.api_client()).list_namespaced_pod(NS).items == []
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(kube.api_client()).list_namespaced_service(NS)
    assert err.value.status == 404


def _conf(url: str) -> client.Configuration:
    c = client.Configuration()
    c.host = url
    return c

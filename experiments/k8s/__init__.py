"""Kubernetes experiments: plain Chaos Toolkit files on chaostoolkit-kubernetes (docs/kubernetes-experiments.md).

The YAML files here break the stack that manifests/k8s deploys through
chaostoolkit-kubernetes' activities (`chaosk8s.*`: pods deleted by label, Deployments
scaled, NetworkPolicies for a region partition, pod and Deployment probes). What
chaosk8s does not have lives in this package: the Prometheus probes (through
bedrock.prometheus, on prometheus-api-client), the entry point's health, holding the
fault window, and deleting the pod that holds a Lease. Every file declares the
`gameday.k8s.chaos_control` control: a kube context not on the allowlist is refused
before any activity runs.
"""

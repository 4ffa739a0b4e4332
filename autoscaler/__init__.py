"""The local autoscaler: the Kubernetes HPA v2 algorithm, driven by the same HPA manifest a cluster uses.

Modules, one idea each:
    spec        the HPA object from ``manifests/k8s/base/hpa.yaml``, validated (pydantic)
    algorithm   replica calculation and behaviour (stabilisation, policies): pure, clock passed in
    daemon      the loop: metrics in, scale out, one sentence per cycle, events.jsonl
    prometheus  the MetricsSource backed by Prometheus over HTTP
    simulator   the HPA against a model of replicas (capacity, start-up time) on a virtual clock
    capacity    knee finding and capacity answers from step-load results (pure)
    report      capacity report: Markdown, HTML and plots
"""

"""The local autoscaler: the Kubernetes HPA v2 algorithm, driven by the same HPA manifest a cluster uses.

Modules, one idea each:
    spec        the HPA object from ``manifests/k8s/base/hpa.yaml``, validated (pydantic)
    algorithm   replica calculation and behaviour (stabilisation, policies): pure, clock passed in
    daemon      the loop (on bedrock.daemon.Daemon): metrics in, scale out, one sentence per
                cycle, events.jsonl
    events      the daemon's events.jsonl writer
    prometheus  the MetricsSource backed by Prometheus (bedrock.prometheus)
    simulator   the HPA against a model of replicas (capacity, start-up time) on a virtual clock
    capacity    knee finding and capacity answers from step-load results (pure)
    cli         `gameday autoscaler ...` and `python -m autoscaler ...`

The capacity report is slo/capacity_report.py; `gameday capacity` is gameday/capacity/.
"""

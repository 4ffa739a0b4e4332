"""The failover controller: detect a dead region, switch traffic, scale, notify, in seconds.

A daemon (failover/controller.py) with pluggable backends (failover/backends/):
traffic switch (edge HAProxy runtime API, Kubernetes Ingress, Cloudflare DNS),
scaler (local stack, Kubernetes Deployment), notifier (log, Slack), leader lock
(etcd lease, Kubernetes Lease). The same code runs locally and on a cluster.
See docs/failover.md.
"""

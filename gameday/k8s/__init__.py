"""Kubernetes: render the bundled manifests, validate them offline, and the cluster target."""

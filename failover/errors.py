"""The failover controller's errors: one base error per backend kind.

    bedrock.errors.ActionError
    └── FailoverError              anything a backend raises (retryable unless said otherwise)
        ├── TrafficSwitchError     edge HAProxy runtime API, Ingress patch, Cloudflare DNS
        ├── ScalerError            local stack scaling, Deployment scale
        ├── NotifierError          Slack webhook
        └── LockError              etcd lease, Kubernetes Lease
            └── LeadershipLost     this controller is no longer the leader: stop acting

Each backend maps its library's errors (httpx, OSError, kubernetes ApiException)
onto its base error, so the controller handles four kinds, not forty.
"""

from __future__ import annotations

from bedrock.errors import ActionError


class FailoverError(ActionError):
    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message, retryable=retryable)


class TrafficSwitchError(FailoverError):
    """Traffic could not be switched (or its current target read)."""


class ScalerError(FailoverError):
    """A region could not be scaled or its readiness read."""


class NotifierError(FailoverError):
    """A notification could not be delivered."""


class LockError(FailoverError):
    """The leader lock store could not be reached or answered nonsense."""


class LeadershipLost(LockError):
    """Another controller holds the lock now; this one must stop acting."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)

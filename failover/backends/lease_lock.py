"""Leader lock on a Kubernetes `coordination.k8s.io/v1` Lease, plus a single-process lock.

`KubernetesLeaseLock` follows client-go's leader election and Patroni's
Kubernetes DCS: every write is a `replace` carrying the `resourceVersion` last
read (compare-and-swap; a 409 means someone else wrote first). A held lease is
considered expired when its `resourceVersion` has not changed for
`leaseDurationSeconds` as observed on *our* monotonic clock, so clock skew
between nodes does not matter. The shared state lives in the Lease annotation
`gameday.io/failover-state` and is written under the same CAS.

`LocalLock` is for a single controller (`lock.kind: none`): always the leader;
state kept in memory and, when a file is given, written atomically to it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from failover.backends.base import LeaderLock
from failover.errors import LeadershipLost, LockError

STATE_ANNOTATION = "gameday.io/failover-state"


def _rv(obj: Any) -> str | None:
    meta = obj.metadata
    return meta.resource_version if meta is not None else None


class KubernetesLeaseLock(LeaderLock):
    name = "k8s_lease"

    def __init__(
        self,
        api_client: Any,
        namespace: str,
        name: str,
        identity: str,
        lease_duration_s: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from kubernetes import client

        self.api = client.CoordinationV1Api(api_client)
        self.client = client
        self.namespace = namespace
        self.lease_name = name
        self.identity = identity
        self.lease_duration_s = lease_duration_s
        self.ttl_s = float(lease_duration_s)
        self.clock = clock
        self._seen_rv: str | None = None
        self._seen_at = 0.0
        self._holder: str | None = None
        # the loop renews while the failover worker writes state: one CAS at a time
        self._mutex = threading.RLock()

    def _now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def _read(self) -> Any | None:
        from kubernetes.client.exceptions import ApiException

        try:
            lease = self.api.read_namespaced_lease(self.lease_name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise LockError(
                f"read lease {self.namespace}/{self.lease_name}: HTTP {exc.status}"
            ) from exc
        except Exception as exc:
            raise LockError(
                f"read lease {self.namespace}/{self.lease_name}: {type(exc).__name__}"
            ) from exc
        rv = _rv(lease)
        if rv != self._seen_rv:
            self._seen_rv, self._seen_at = rv, self.clock()
        self._holder = lease.spec.holder_identity if lease.spec is not None else None
        return lease

    def _replace(self, lease: Any) -> bool:
        """CAS write; False on conflict (someone else wrote first)."""
        from kubernetes.client.exceptions import ApiException

        try:
            new = self.api.replace_namespaced_lease(self.lease_name, self.namespace, lease)
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise LockError(
                f"replace lease {self.namespace}/{self.lease_name}: HTTP {exc.status}"
            ) from exc
        except Exception as exc:
            raise LockError(f"replace lease: {type(exc).__name__}") from exc
        self._seen_rv, self._seen_at = _rv(new), self.clock()
        self._holder = new.spec.holder_identity if new.spec is not None else None
        return True

    def holder(self) -> str | None:
        return self._holder

    def try_acquire(self) -> bool:
        with self._mutex:
            return self._try_acquire()

    def _try_acquire(self) -> bool:
        from kubernetes.client.exceptions import ApiException

        lease = self._read()
        now = self._now()
        if lease is None:
            body = self.client.V1Lease(
                metadata=self.client.V1ObjectMeta(name=self.lease_name, namespace=self.namespace),
                spec=self.client.V1LeaseSpec(
                    holder_identity=self.identity,
                    lease_duration_seconds=self.lease_duration_s,
                    acquire_time=now,
                    renew_time=now,
                    lease_transitions=0,
                ),
            )
            try:
                created = self.api.create_namespaced_lease(self.namespace, body)
            except ApiException as exc:
                if exc.status == 409:
                    return False
                raise LockError(f"create lease: HTTP {exc.status}") from exc
            self._seen_rv, self._seen_at = _rv(created), self.clock()
            self._holder = self.identity
            return True
        spec = lease.spec
        if spec.holder_identity == self.identity:
            spec.renew_time = now
            spec.lease_duration_seconds = self.lease_duration_s
            return self._replace(lease)
        duration = spec.lease_duration_seconds or self.lease_duration_s
        expired = not spec.holder_identity or self.clock() - self._seen_at > duration
        if not expired:
            return False
        spec.holder_identity = self.identity
        spec.acquire_time = now
        spec.renew_time = now
        spec.lease_duration_seconds = self.lease_duration_s
        spec.lease_transitions = (spec.lease_transitions or 0) + 1
        return self._replace(lease)

    def release(self) -> None:
        with self._mutex:
            lease = self._read()
            if lease is not None and lease.spec.holder_identity == self.identity:
                lease.spec.holder_identity = None
                lease.spec.lease_duration_seconds = 1
                self._replace(lease)

    def read_state(self) -> dict[str, Any] | None:
        with self._mutex:
            lease = self._read()
        raw = (
            ((lease.metadata.annotations or {}).get(STATE_ANNOTATION))
            if lease is not None
            else None
        )
        if raw is None:
            return None
        try:
            state = json.loads(raw)
        except ValueError as exc:
            raise LockError(f"lease state annotation is not JSON: {exc}") from exc
        return state if isinstance(state, dict) else None

    def write_state(self, state: dict[str, Any]) -> None:
        with self._mutex:
            self._write_state(state)

    def _write_state(self, state: dict[str, Any]) -> None:
        for _ in range(3):
            lease = self._read()
            if lease is None or lease.spec.holder_identity != self.identity:
                raise LeadershipLost(f"{self.identity} no longer holds lease {self.lease_name}")
            annotations = dict(lease.metadata.annotations or {})
            annotations[STATE_ANNOTATION] = json.dumps(state)
            lease.metadata.annotations = annotations
            lease.spec.renew_time = self._now()
            if self._replace(lease):
                return
        raise LockError("lease state write kept conflicting")


class LocalLock(LeaderLock):
    name = "local"

    def __init__(self, identity: str, state_file: Path | None = None) -> None:
        self.identity = identity
        self.state_file = state_file
        self._state: dict[str, Any] | None = None
        if state_file is not None and os.path.lexists(state_file):  # a looping link: refused
            from failover.state import read_state_file

            self._state = read_state_file(state_file)  # ConfigError (exit 2) naming the file

    def try_acquire(self) -> bool:
        return True

    def holder(self) -> str | None:
        return self.identity

    def release(self) -> None:
        pass

    def read_state(self) -> dict[str, Any] | None:
        return dict(self._state) if self._state is not None else None

    def write_state(self, state: dict[str, Any]) -> None:
        self._state = dict(state)
        if self.state_file is not None:
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.state_file)

"""Leader lock and shared state in etcd v3, over its JSON gateway (httpx).

Keys under `prefix`: `leader` (this controller's identity, attached to a lease
of `ttl_s`) and `state` (JSON, no lease, written only by the leader).
- acquire: if `leader` is absent, grant a lease and write the key in a
  transaction guarded by `create_revision == 0`: exactly one contender wins;
- renew: `/v3/lease/keepalive`; a lease that expired (no TTL in the answer)
  means we lost it;
- write state: a transaction guarded by `leader == identity`, so a deposed
  leader cannot overwrite its successor's state (raises LeadershipLost);
- release: revoke the lease, which deletes `leader` at once.
Uses /v3/lease/grant, /v3/lease/keepalive, /v3/lease/revoke, /v3/kv/range,
/v3/kv/txn (etcd >= 3.4). Keys and values are base64 in the JSON API.
Limits: no TLS/auth options; endpoints are tried in order on transport errors, and one that
failed goes to the back of the list (a hung member costs one timeout, not one per call).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from failover.backends.base import LeaderLock
from failover.errors import LeadershipLost, LockError


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def _unb64(s: str) -> str:
    return base64.b64decode(s).decode()


class EtcdLock(LeaderLock):
    name = "etcd"

    def __init__(
        self, endpoints: list[str], identity: str, prefix: str = "/gameday/failover", ttl_s: int = 5,
        timeout_s: float = 1.0,
    ) -> None:  # fmt: skip
        self.endpoints = [e.rstrip("/") for e in endpoints]
        self.identity = identity
        self.ttl_s = ttl_s
        self.leader_key = _b64(prefix.rstrip("/") + "/leader")
        self.state_key = _b64(prefix.rstrip("/") + "/state")
        self._client = httpx.Client(timeout=timeout_s)
        self._lease: str | None = None
        self._holder: str | None = None

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        last: Exception | None = None
        for ep in list(self.endpoints):
            try:
                resp = self._client.post(ep + path, json=body)
            except httpx.HTTPError as exc:
                last = exc
                # A member that hangs (frozen, partitioned) would cost every call a full
                # timeout: move it to the back so the next calls go to one that answers.
                self.endpoints.remove(ep)
                self.endpoints.append(ep)
                continue
            try:
                data = resp.json()
            except ValueError:
                raise LockError(f"etcd {path}: HTTP {resp.status_code}, not JSON") from None
            if resp.status_code != 200 or "error" in data:
                raise LockError(
                    f"etcd {path}: HTTP {resp.status_code} {data.get('message') or data.get('error')}"
                )
            return data  # type: ignore[no-any-return]
        raise LockError(f"etcd {path}: no endpoint answered ({type(last).__name__}: {last})")

    def _get(self, key: str) -> str | None:
        data = self._post("/v3/kv/range", {"key": key})
        kvs = data.get("kvs") or []
        return _unb64(kvs[0].get("value", "")) if kvs else None

    def holder(self) -> str | None:
        return self._holder

    def try_acquire(self) -> bool:
        if self._lease is not None:
            ka = self._post("/v3/lease/keepalive", {"ID": self._lease})
            if int(ka.get("result", {}).get("TTL", 0) or 0) > 0:
                self._holder = self._get(self.leader_key)
                if self._holder == self.identity:
                    return True
            self._lease = None  # expired or the key is someone else's now
        current = self._get(self.leader_key)
        if current is not None:
            self._holder = current
            return False
        lease = self._post("/v3/lease/grant", {"TTL": self.ttl_s})["ID"]
        txn = self._post(
            "/v3/kv/txn",
            {
                "compare": [
                    {
                        "key": self.leader_key,
                        "target": "CREATE",
                        "result": "EQUAL",
                        "create_revision": "0",
                    }
                ],
                "success": [
                    {
                        "request_put": {
                            "key": self.leader_key,
                            "value": _b64(self.identity),
                            "lease": lease,
                        }
                    }
                ],
                "failure": [{"request_range": {"key": self.leader_key}}],
            },
        )
        if txn.get("succeeded"):
            self._lease = lease
            self._holder = self.identity
            return True
        self._post("/v3/lease/revoke", {"ID": lease})
        kvs = txn["responses"][0]["response_range"].get("kvs") or []
        self._holder = _unb64(kvs[0]["value"]) if kvs else None
        return False

    def release(self) -> None:
        if self._lease is not None:
            lease, self._lease = self._lease, None
            self._post("/v3/lease/revoke", {"ID": lease})
            self._holder = None

    def read_state(self) -> dict[str, Any] | None:
        raw = self._get(self.state_key)
        if raw is None:
            return None
        try:
            state = json.loads(raw)
        except ValueError as exc:
            raise LockError(f"etcd state is not JSON: {exc}") from exc
        return state if isinstance(state, dict) else None

    def write_state(self, state: dict[str, Any]) -> None:
        txn = self._post(
            "/v3/kv/txn",
            {
                "compare": [
                    {
                        "key": self.leader_key,
                        "target": "VALUE",
                        "result": "EQUAL",
                        "value": _b64(self.identity),
                    }
                ],
                "success": [
                    {"request_put": {"key": self.state_key, "value": _b64(json.dumps(state))}}
                ],
            },
        )
        if not txn.get("succeeded"):
            self._lease = None
            raise LeadershipLost(f"{self.identity} no longer holds the etcd leader key")

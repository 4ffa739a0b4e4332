"""Switch traffic by pointing one Cloudflare DNS record at a region (API v4, httpx).

`switch_to(region)` finds the record by name and type
(`GET /zones/{zone}/dns_records?name=&type=`) and, when its content differs,
`PATCH`es it to that region's content. The record (not `records.api`, which the
seed used and which never existed) and each region's content come from the
config; the token only from the environment or a file, never logged.
Limits: DNS caches keep the old answer for the record's TTL (keep it low); one
record per switch.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from failover.backends.base import TrafficSwitch
from failover.errors import TrafficSwitchError


class CloudflareDNSSwitch(TrafficSwitch):
    name = "cloudflare"

    def __init__(
        self,
        *,
        api_base: str,
        token: SecretStr,
        zone_id: str,
        record_name: str,
        contents: dict[str, str],
        record_type: str = "A",
        timeout_s: float = 5.0,
    ) -> None:
        self.zone_id = zone_id
        self.record_name = record_name
        self.record_type = record_type
        self.contents = contents
        self._client = httpx.Client(
            base_url=api_base.rstrip("/"),
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {token.get_secret_value()}"},
        )

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            resp = self._client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise TrafficSwitchError(
                f"cloudflare {method} {path}: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code >= 400 or not isinstance(body, dict) or not body.get("success"):
            errors = body.get("errors") if isinstance(body, dict) else resp.text[:200]
            retryable = resp.status_code == 429 or resp.status_code >= 500
            raise TrafficSwitchError(
                f"cloudflare {method} {path}: HTTP {resp.status_code} {errors}", retryable=retryable
            )
        return body["result"]

    def _record(self) -> dict[str, Any]:
        found = self._call(
            "GET",
            f"/zones/{self.zone_id}/dns_records",
            params={"name": self.record_name, "type": self.record_type},
        )
        if not isinstance(found, list) or len(found) != 1:
            n = len(found) if isinstance(found, list) else "?"
            raise TrafficSwitchError(
                f"cloudflare: expected one {self.record_type} record {self.record_name}, found {n}",
                retryable=False,
            )
        record: dict[str, Any] = found[0]
        return record

    def switch_to(self, region: str) -> None:
        if region not in self.contents:
            raise TrafficSwitchError(
                f"cloudflare: no record content for region {region!r}", retryable=False
            )
        record = self._record()
        want = self.contents[region]
        if record.get("content") == want:
            return
        updated = self._call(
            "PATCH", f"/zones/{self.zone_id}/dns_records/{record['id']}", json={"content": want}
        )
        if updated.get("content") != want:
            raise TrafficSwitchError(
                f"cloudflare: record still {updated.get('content')!r} after update"
            )

    def current(self) -> str | None:
        content = self._record().get("content")
        matches = [r for r, c in self.contents.items() if c == content]
        return matches[0] if len(matches) == 1 else None

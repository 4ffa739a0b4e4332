"""A faithful fake of the Cloudflare API v4 DNS records endpoints we use.

Routes (under `/client/v4`): `GET /zones/{zone}/dns_records?name=&type=` (list,
with `result_info`), `GET|PATCH|PUT /zones/{zone}/dns_records/{id}`.
Behaviour reproduced from Cloudflare's documentation: the `{success, errors,
messages, result}` envelope; `Authorization: Bearer <token>` checked (missing ->
400 code 6003/6111, wrong -> 403 code 10000 "Authentication error"); unknown
zone -> 400 code 7003; unknown record -> 404 code 81044; an A record whose
content is not an IPv4 address -> 400 code 9005; `modified_on` updated on change;
rate limiting (429, code 971, `Retry-After`) or a 5xx on demand (`fail_next`).
Limits: one page of results, no pagination parameters, A/AAAA/CNAME only.
"""

from __future__ import annotations

import ipaddress
import itertools
import time
from typing import Any

from tests.support.fakes._http import FakeHTTPServer, Request, Response

PREFIX = "/client/v4"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())


def _err(status: int, code: int, message: str) -> Response:
    return Response.json(
        status,
        {
            "success": False,
            "errors": [{"code": code, "message": message}],
            "messages": [],
            "result": None,
        },
    )


def _ok(result: Any, **extra: Any) -> Response:
    body = {"success": True, "errors": [], "messages": [], "result": result}
    body.update(extra)
    return Response.json(200, body)


class FakeCloudflare(FakeHTTPServer):
    def __init__(self, token: str, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.token = token
        self.zones: dict[str, str] = {}  # zone id -> zone name
        self.records: dict[str, dict[str, Any]] = {}  # record id -> record
        self._ids = itertools.count(1)
        self.fail_next: list[int] = []  # statuses (429, 500) to answer to the next writes

    @property
    def api_base(self) -> str:
        return self.url + PREFIX

    def add_zone(self, zone_id: str, name: str) -> None:
        self.zones[zone_id] = name

    def add_record(self, zone_id: str, name: str, rtype: str, content: str, ttl: int = 60) -> str:
        rid = f"{next(self._ids):032x}"
        self.records[rid] = {
            "id": rid,
            "zone_id": zone_id,
            "zone_name": self.zones[zone_id],
            "name": name,
            "type": rtype,
            "content": content,
            "proxiable": True,
            "proxied": False,
            "ttl": ttl,
            "locked": False,
            "meta": {"auto_added": False, "source": "primary"},
            "comment": None,
            "tags": [],
            "created_on": _now(),
            "modified_on": _now(),
        }
        return rid

    def record(self, name: str, rtype: str = "A") -> dict[str, Any]:
        for r in self.records.values():
            if r["name"] == name and r["type"] == rtype:
                return r
        raise KeyError(name)

    def handle(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return Response.json(
                400,
                {
                    "success": False,
                    "errors": [
                        {
                            "code": 6003,
                            "message": "Invalid request headers",
                            "error_chain": [
                                {"code": 6111, "message": "Invalid format for Authorization header"}
                            ],
                        }
                    ],
                    "messages": [],
                    "result": None,
                },
            )
        if auth[len("Bearer ") :] != self.token:
            return _err(403, 10000, "Authentication error")
        if not request.path.startswith(PREFIX + "/zones/"):
            return _err(400, 7000, "No route for that URI")
        parts = request.path[len(PREFIX) + 1 :].split("/")
        # zones/{zone}/dns_records[/{id}]
        if len(parts) < 3 or parts[2] != "dns_records":
            return _err(400, 7000, "No route for that URI")
        zone_id = parts[1]
        if zone_id not in self.zones:
            return _err(
                400,
                7003,
                f"Could not route to /zones/{zone_id}/dns_records, perhaps your object identifier is invalid?",
            )
        with self.lock:
            if len(parts) == 3 and request.method == "GET":
                return self._list(zone_id, request)
            if len(parts) == 4:
                return self._one(zone_id, parts[3], request)
        return _err(405, 10405, "Method not allowed for this endpoint")

    def _list(self, zone_id: str, request: Request) -> Response:
        name, rtype = request.q("name"), request.q("type")
        found = [
            r
            for r in self.records.values()
            if r["zone_id"] == zone_id
            and (name is None or r["name"] == name)
            and (rtype is None or r["type"] == rtype)
        ]
        info = {
            "page": 1,
            "per_page": 100,
            "count": len(found),
            "total_count": len(found),
            "total_pages": 1,
        }
        return _ok(found, result_info=info)

    def _one(self, zone_id: str, rid: str, request: Request) -> Response:
        rec = self.records.get(rid)
        if rec is None or rec["zone_id"] != zone_id:
            return _err(404, 81044, "Record does not exist.")
        if request.method == "GET":
            return _ok(rec)
        if request.method not in ("PATCH", "PUT"):
            return _err(405, 10405, "Method not allowed for this endpoint")
        if self.fail_next:
            status = self.fail_next.pop(0)
            if status == 429:
                return Response.json(
                    429,
                    {"success": False, "errors": [{"code": 971, "message": "Please wait and consider throttling your request speed"}],
                     "messages": [], "result": None},
                    {"Retry-After": "1"},
                )  # fmt: skip
            return _err(status, 10000 + status, "Internal Server Error")
        try:
            body = request.json()
        except ValueError:
            return _err(400, 9207, "Request body is invalid.")
        if not isinstance(body, dict):
            return _err(400, 9207, "Request body is invalid.")
        if request.method == "PUT":
            for key in ("type", "name", "content"):
                if key not in body:
                    return _err(400, 9000 + 21, f"DNS record {key} is required")
        new = dict(rec)
        for key in ("type", "name", "content", "ttl", "proxied", "comment", "tags"):
            if key in body:
                new[key] = body[key]
        if new["type"] == "A":
            try:
                ipaddress.IPv4Address(str(new["content"]))
            except ValueError:
                return _err(
                    400, 9005, "Content for A record is invalid. Must be a valid IPv4 address"
                )
        new["modified_on"] = _now()
        self.records[rid] = new
        return _ok(new)

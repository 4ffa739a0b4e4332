"""A small in-memory stand-in of the reference API (docs/reference-api.md) for load tests.

Real HTTP (uvicorn) on 127.0.6.x, run in its own process by the tests before the real stack
exists. Routes: GET /health, GET /static, GET /items/{id} (1..1000 seeded, hit/miss through an
in-memory "cache"), POST /items, POST /ledger (idempotent on (client, seq)), GET /ledger.
`POST /_admin {"delay_ms": n, "fail_status": code|null}` injects latency or failures so tests
can see timeouts and HTTP errors. Every response carries X-Region and X-Replica.

    python tests/support/load_api_server.py --host 127.0.6.1 --port 18080 [--region primary]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

STATE: dict[str, Any] = {
    "items": {i: f"seed-{i}" for i in range(1, 1001)},
    "cache": {},
    "ledger": {},
    "next_id": 1001,
    "delay_ms": 0,
    "fail_status": None,
    "region": "primary",
    "counts": {},
}


def _headers() -> dict[str, str]:
    return {"X-Region": STATE["region"], "X-Replica": "test-0"}


async def _faults(route: str) -> Response | None:
    STATE["counts"][route] = STATE["counts"].get(route, 0) + 1
    if STATE["delay_ms"]:
        await asyncio.sleep(STATE["delay_ms"] / 1000)
    if STATE["fail_status"]:
        return JSONResponse({"error": "injected"}, STATE["fail_status"], headers=_headers())
    return None


async def health(request: Request) -> Response:
    body = {"status": "healthy", "database": "connected", "redis": "connected"}
    return JSONResponse(
        {**body, "region": STATE["region"], "replica": "test-0"}, headers=_headers()
    )


async def static(request: Request) -> Response:
    return (await _faults("static")) or PlainTextResponse("ok", headers=_headers())


async def get_item(request: Request) -> Response:
    if fault := await _faults("get_item"):
        return fault
    item_id = int(request.path_params["item_id"])
    if item_id in STATE["cache"]:
        return JSONResponse(
            {"id": item_id, "value": STATE["cache"][item_id], "cache": "hit"}, headers=_headers()
        )
    if item_id not in STATE["items"]:
        return JSONResponse({"error": "not found"}, 404, headers=_headers())
    STATE["cache"][item_id] = STATE["items"][item_id]
    return JSONResponse(
        {"id": item_id, "value": STATE["items"][item_id], "cache": "miss"}, headers=_headers()
    )


async def post_item(request: Request) -> Response:
    if fault := await _faults("post_item"):
        return fault
    body = await request.json()
    item_id = STATE["next_id"]
    STATE["next_id"] += 1
    STATE["items"][item_id] = str(body.get("value", ""))
    STATE["cache"].pop(item_id, None)
    return JSONResponse({"id": item_id}, 201, headers=_headers())


async def post_ledger(request: Request) -> Response:
    if fault := await _faults("post_ledger"):
        return fault
    body = await request.json()
    client, seq = str(body["client"]), int(body["seq"])
    STATE["ledger"].setdefault(client, set()).add(seq)
    return JSONResponse({"client": client, "seq": seq}, 201, headers=_headers())


async def get_ledger(request: Request) -> Response:
    client = request.query_params.get("client", "")
    after = int(request.query_params.get("after", "0"))
    limit = int(request.query_params.get("limit", "10000"))
    seqs = sorted(s for s in STATE["ledger"].get(client, set()) if s > after)[:limit]
    return JSONResponse({"client": client, "seqs": seqs}, headers=_headers())


async def admin(request: Request) -> Response:
    body = await request.json()
    for key in ("delay_ms", "fail_status"):
        if key in body:
            STATE[key] = body[key]
    return JSONResponse(
        {
            "delay_ms": STATE["delay_ms"],
            "fail_status": STATE["fail_status"],
            "counts": STATE["counts"],
        }
    )


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/static", static),
        Route("/items/{item_id:int}", get_item),
        Route("/items", post_item, methods=["POST"]),
        Route("/ledger", post_ledger, methods=["POST"]),
        Route("/ledger", get_ledger, methods=["GET"]),
        Route("/_admin", admin, methods=["POST", "GET"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.6.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--region", default="primary")
    args = parser.parse_args()
    STATE["region"] = args.region
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()

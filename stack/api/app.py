"""Routes of the reference API (contract: docs/reference-api.md).

`build_app(settings)` returns the ASGI app: Starlette routes wrapped in the
metrics middleware. Dependencies are started in the lifespan without waiting for
them, so the replica listens at once and `/health` tells the truth until the
database and Redis are there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stack.api.cache import Cache
from stack.api.database import MAX_BIGINT, Database, DatabaseUnavailable
from stack.api.health import HealthChecker
from stack.api.metrics import DEPENDENCY_UP, MetricsMiddleware
from stack.api.settings import ApiSettings

log = logging.getLogger("stack.api")

MAX_VALUE_CHARS = 10_000
MAX_CLIENT_CHARS = 200
LEDGER_LIMIT_MAX = 100_000
STATIC_BODY = b'{"static":true}'
_CONVERTOR = re.compile(r":\w+}")  # "/items/{id:int}" -> "/items/{id}" as a metric label


class BadRequest(Exception):
    """The client sent something we cannot use; answered with 400."""


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"query parameter {name!r} must be an integer, got {raw!r}") from None


def _item_key(item_id: int) -> str:
    return f"item:{item_id}"


class Api:
    """The replica's services and its route handlers."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.db = Database(settings)
        self.cache = Cache(settings)
        self.health = HealthChecker(self.db.ping, self.cache.ping, settings.health_cache_s)

    async def health_route(self, _request: Request) -> Response:
        report = await self.health.report()
        DEPENDENCY_UP.labels("database").set(1 if report.database_up else 0)
        DEPENDENCY_UP.labels("redis").set(1 if report.redis_up else 0)
        return JSONResponse(
            report.as_json(self.settings.region, self.settings.replica),
            status_code=report.status_code,
        )

    async def static_route(self, _request: Request) -> Response:
        return Response(STATIC_BODY, media_type="application/json")

    async def get_item(self, request: Request) -> Response:
        item_id: int = request.path_params["id"]
        if not 0 < item_id <= MAX_BIGINT:
            return _error(404, "no such item", id=item_id)
        key = _item_key(item_id)
        cached = await self.cache.get(key)
        if cached is not None:
            return JSONResponse({"id": item_id, "value": cached, "cache": "hit"})
        value = await self.db.get_item(item_id)
        if value is None:
            return _error(404, "no such item", id=item_id)
        await self.cache.set(key, value)
        return JSONResponse({"id": item_id, "value": value, "cache": "miss"})

    async def post_item(self, request: Request) -> Response:
        body = await _json_object(request)
        value = body.get("value")
        if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
            raise BadRequest(f"'value' must be a string of at most {MAX_VALUE_CHARS} characters")
        item_id = await self.db.insert_item(value)
        await self.cache.delete(_item_key(item_id))
        return JSONResponse({"id": item_id}, status_code=201)

    async def post_ledger(self, request: Request) -> Response:
        body = await _json_object(request)
        client, seq = body.get("client"), body.get("seq")
        if not isinstance(client, str) or not 0 < len(client) <= MAX_CLIENT_CHARS:
            raise BadRequest(f"'client' must be a string of 1..{MAX_CLIENT_CHARS} characters")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_BIGINT:
            raise BadRequest("'seq' must be an integer >= 0")
        await self.db.insert_ledger(client, seq)
        return JSONResponse({"client": client, "seq": seq}, status_code=201)

    async def get_ledger(self, request: Request) -> Response:
        client = request.query_params.get("client", "")
        if not 0 < len(client) <= MAX_CLIENT_CHARS:
            raise BadRequest(f"query parameter 'client' must be 1..{MAX_CLIENT_CHARS} characters")
        after = _int_param(request, "after", None)
        limit = _int_param(request, "limit", 10_000)
        assert limit is not None
        if not 1 <= limit <= LEDGER_LIMIT_MAX:
            raise BadRequest(f"query parameter 'limit' must be 1..{LEDGER_LIMIT_MAX}")
        if after is not None and not -MAX_BIGINT <= after <= MAX_BIGINT:
            raise BadRequest("query parameter 'after' is out of range")
        seqs = await self.db.read_ledger(client, after, limit)
        return JSONResponse({"client": client, "seqs": seqs})

    async def metrics_route(self, _request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        await self.db.start()
        await self.cache.start()
        log.info(
            "replica %s/%s starting on %s:%d; database and Redis connect in the background",
            self.settings.region,
            self.settings.replica,
            self.settings.host,
            self.settings.port,
        )
        try:
            yield
        finally:
            await self.cache.close()
            await self.db.close()
            log.info("replica %s/%s stopped", self.settings.region, self.settings.replica)


async def _bad_request(_request: Request, exc: Exception) -> Response:
    return _error(400, str(exc))


async def _database_unavailable(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DatabaseUnavailable)
    outcome = {False: "not_applied", None: "unknown"}.get(exc.applied, "unknown")
    response = _error(503, exc.reason, write_outcome=outcome)
    response.headers["Retry-After"] = "1"
    return response


def build_app(settings: ApiSettings) -> MetricsMiddleware:
    """The ASGI app for one replica."""
    api = Api(settings)
    routes = [
        Route("/health", api.health_route, methods=["GET"]),
        Route("/static", api.static_route, methods=["GET"]),
        Route("/items/{id:int}", api.get_item, methods=["GET"]),
        Route("/items", api.post_item, methods=["POST"]),
        Route("/ledger", api.post_ledger, methods=["POST"]),
        Route("/ledger", api.get_ledger, methods=["GET"]),
        Route("/metrics", api.metrics_route, methods=["GET"]),
    ]
    # Starlette puts the matched endpoint in the scope; map it back to the template.
    route_by_endpoint = {r.endpoint: _CONVERTOR.sub("}", r.path) for r in routes}
    starlette = Starlette(
        routes=routes,
        lifespan=api.lifespan,
        exception_handlers={
            BadRequest: _bad_request,
            DatabaseUnavailable: _database_unavailable,
        },
    )
    return MetricsMiddleware(
        starlette,
        region=settings.region,
        replica=settings.replica,
        route_of_endpoint=route_by_endpoint.get,
    )

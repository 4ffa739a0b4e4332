"""Unit tests of the reference API's pure parts: settings, health verdict and its
cache, the cache breaker, error classification, and the metrics middleware."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bedrock.errors import InputError
from stack.api.cache import Breaker
from stack.api.database import DatabaseHealth, connection_still_usable, is_unavailable
from stack.api.health import HealthChecker, HealthReport
from stack.api.metrics import MetricsMiddleware
from stack.api.settings import parse_settings

REPO = Path(__file__).resolve().parents[2]
GOOD = [
    "--host", "127.0.5.50", "--port", "8101", "--region", "primary", "--replica", "api-1",
    "--database-url", "postgresql://postgres@127.0.1.1:5000/postgres",
    "--redis-url", "redis://127.0.1.31:6379",
]  # fmt: skip


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ---- settings ---------------------------------------------------------------
def test_settings_parse_the_documented_command_line() -> None:
    s = parse_settings([*GOOD, "--redis-cluster", "--seed-items", "50"])
    assert (s.host, s.port, s.region, s.replica) == ("127.0.5.50", 8101, "primary", "api-1")
    assert s.redis_urls == ("redis://127.0.1.31:6379",)
    assert s.redis_cluster and s.seed_items == 50
    assert s.db_connect_timeout_s == 1.0 and s.db_command_timeout_s == 2.0
    assert s.request_deadline_s <= 3.0


def test_settings_report_every_problem_with_its_option() -> None:
    bad = [
        "--host", "not-an-ip", "--port", "70000", "--region", "primary", "--replica", "api-1",
        "--database-url", "mysql://x@h/db", "--redis-url", "redis://a:1", "--redis-url",
        "redis://b:2", "--seed-items", "-1",
    ]  # fmt: skip
    with pytest.raises(InputError) as info:
        parse_settings(bad)
    text = str(info.value)
    for option in ("--host", "--port", "--database-url", "--redis-url", "--seed-items"):
        assert option in text, option


def test_bad_arguments_exit_2_naming_the_option() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "stack.api", *GOOD[:-2], "--redis-url", "http://h:1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "--redis-url" in r.stderr and "scheme" in r.stderr


def test_read_url_is_optional_and_checked() -> None:
    assert parse_settings(GOOD).database_read_url is None
    s = parse_settings([*GOOD, "--database-read-url", "postgresql://postgres@127.0.2.20:5432/db"])
    assert s.database_read_url == "postgresql://postgres@127.0.2.20:5432/db"
    with pytest.raises(InputError) as info:
        parse_settings([*GOOD, "--database-read-url", "http://127.0.2.20/db"])
    assert "--database-read-url" in str(info.value)


# ---- health -----------------------------------------------------------------
def test_health_json_adds_database_writable_only_when_reported() -> None:
    ok = HealthReport(database_up=True, redis_up=True, database_writable=False)
    assert ok.status_code == 200  # no leader yet: reads still served, still healthy
    assert ok.as_json("secondary", "api-0") == {
        "status": "healthy",
        "database": "connected",
        "redis": "connected",
        "region": "secondary",
        "replica": "api-0",
        "database_writable": False,
    }
    assert "database_writable" not in HealthReport(True, True).as_json("p", "r")


def test_health_checker_takes_a_database_health_verdict() -> None:
    async def probe_db() -> DatabaseHealth:
        return DatabaseHealth(up=True, writable=False)

    async def probe_redis() -> bool:
        return True

    async def scenario() -> HealthReport:
        return await HealthChecker(probe_db, probe_redis, ttl_s=0.0).report()

    report = asyncio.run(scenario())
    assert (report.database_up, report.database_writable, report.healthy) == (True, False, True)


def test_health_json_is_exactly_what_the_failover_manager_checks() -> None:
    ok = HealthReport(database_up=True, redis_up=True)
    assert ok.status_code == 200
    assert ok.as_json("primary", "api-1") == {
        "status": "healthy",
        "database": "connected",
        "redis": "connected",
        "region": "primary",
        "replica": "api-1",
    }
    no_redis = HealthReport(database_up=True, redis_up=False)
    assert no_redis.status_code == 503
    assert no_redis.as_json("p", "r")["status"] == "unhealthy"
    assert no_redis.as_json("p", "r")["redis"] == "disconnected"
    assert no_redis.as_json("p", "r")["database"] == "connected"
    no_db = HealthReport(database_up=False, redis_up=True).as_json("p", "r")
    assert (no_db["status"], no_db["database"], no_db["redis"]) == (
        "unhealthy",
        "disconnected",
        "connected",
    )


def test_health_probes_are_cached_and_shared() -> None:
    clock = FakeClock()
    calls = {"db": 0, "redis": 0}
    db_up = {"value": True}
    release = asyncio.Event()

    async def probe_db() -> bool:
        calls["db"] += 1
        await release.wait()
        return db_up["value"]

    async def probe_redis() -> bool:
        calls["redis"] += 1
        return True

    async def scenario() -> None:
        checker = HealthChecker(probe_db, probe_redis, ttl_s=0.25, clock=clock)
        storm = [asyncio.create_task(checker.report()) for _ in range(50)]
        await asyncio.sleep(0.01)
        release.set()
        reports = await asyncio.gather(*storm)
        assert all(r.healthy for r in reports)
        assert calls == {"db": 1, "redis": 1}  # 50 requests, one probe

        db_up["value"] = False
        clock.now += 0.2  # within the cache window: the old verdict stands
        assert (await checker.report()).healthy
        assert calls["db"] == 1
        clock.now += 0.1  # past 250 ms: probed again, and honest
        report = await checker.report()
        assert not report.database_up and report.redis_up
        assert calls["db"] == 2

    asyncio.run(scenario())


def test_a_cancelled_health_request_does_not_cancel_the_shared_probe() -> None:
    async def slow_db() -> bool:
        await asyncio.sleep(0.05)
        return True

    async def redis() -> bool:
        return True

    async def scenario() -> None:
        checker = HealthChecker(slow_db, redis, ttl_s=0.25)
        first = asyncio.create_task(checker.report())
        second = asyncio.create_task(checker.report())
        await asyncio.sleep(0.01)
        first.cancel()
        assert (await second).healthy
        assert checker.probes_run == 1

    asyncio.run(scenario())


# ---- cache breaker ------------------------------------------------------------
def test_breaker_bypasses_for_its_window_and_closes_on_success() -> None:
    clock = FakeClock()
    b = Breaker(1.0, clock=clock)
    assert b.allows()
    b.failed()
    assert not b.allows()
    clock.now += 0.99
    assert not b.allows()
    clock.now += 0.02
    assert b.allows()
    b.failed()
    b.succeeded()
    assert b.allows()


# ---- database error classification ------------------------------------------
@pytest.mark.parametrize(
    ("exc", "unavailable", "usable"),
    [
        (ConnectionRefusedError(), True, False),
        (TimeoutError(), True, False),
        (asyncpg.ConnectionDoesNotExistError("gone"), True, False),
        (asyncpg.exceptions.AdminShutdownError("terminating"), True, False),
        (asyncpg.exceptions.CannotConnectNowError("starting up"), True, False),
        (asyncpg.exceptions.TooManyConnectionsError("too many"), True, False),
        (asyncpg.InterfaceError("connection is closed"), True, False),
        (asyncpg.ReadOnlySQLTransactionError("read-only"), False, True),
        (asyncpg.UndefinedTableError("no table"), False, True),
        (asyncpg.UniqueViolationError("dup"), False, True),
    ],
)
def test_database_errors_are_classified(
    exc: BaseException, unavailable: bool, usable: bool
) -> None:
    assert is_unavailable(exc) is unavailable
    assert connection_still_usable(exc) is usable


# ---- metrics middleware -------------------------------------------------------
def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_middleware_labels_by_route_template_and_tags_responses() -> None:
    async def hello(request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("hi " + request.path_params["name"])

    async def boom(_request):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    routes = [Route("/unit-hello/{name}", hello), Route("/unit-boom", boom)]
    app = MetricsMiddleware(
        Starlette(routes=routes),
        region="primary",
        replica="api-7",
        route_of_endpoint={r.endpoint: r.path for r in routes}.get,
    )
    ok = {"route": "/unit-hello/{name}", "method": "GET", "status": "200"}
    before_ok = _sample("http_requests_total", ok)
    before_count = _sample(
        "http_request_duration_seconds_count", {"route": "/unit-hello/{name}", "method": "GET"}
    )
    before_unmatched = _sample(
        "http_requests_total", {"route": "unmatched", "method": "GET", "status": "404"}
    )
    before_500 = _sample(
        "http_requests_total", {"route": "/unit-boom", "method": "GET", "status": "500"}
    )

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for name in ("a", "b", "c"):
                r = await client.get(f"/unit-hello/{name}")
                assert r.status_code == 200
                assert (r.headers["x-region"], r.headers["x-replica"]) == ("primary", "api-7")
            r = await client.get("/no-such-route")
            assert r.status_code == 404 and r.headers["x-replica"] == "api-7"
            r = await client.get("/unit-boom")
            assert r.status_code == 500

    asyncio.run(scenario())
    assert _sample("http_requests_total", ok) - before_ok == 3
    assert (
        _sample(
            "http_request_duration_seconds_count", {"route": "/unit-hello/{name}", "method": "GET"}
        )
        - before_count
        == 3
    )
    assert (
        _sample("http_requests_total", {"route": "unmatched", "method": "GET", "status": "404"})
        - before_unmatched
        == 1
    )
    assert (
        _sample("http_requests_total", {"route": "/unit-boom", "method": "GET", "status": "500"})
        - before_500
        == 1
    )
    assert _sample("http_requests_in_flight", {}) == 0

"""PostgreSQL access for the API: a lazy asyncpg pool that survives failovers.

The pool connects on demand (min size 0), so the replica starts listening before
the database is up. The database URL points at the regional HAProxy, which routes
to the current leader: after a failover the same URL reaches the new leader, and
connection-level errors expire the pool so stale connections are replaced.
Every request-side operation runs under one deadline (`request_deadline_s`); a
failure becomes `DatabaseUnavailable`, which the app answers with 503.

Schema creation and seeding run in the background until they succeed, under an
advisory lock (replicas start together). On a read-only standby they are skipped:
the replica serves reads there and answers writes with 503.

Limits: one retry, only for reads and idempotent writes that met a stale
connection; no statement is retried after a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from stack.api.settings import ApiSettings

log = logging.getLogger("stack.api.database")

T = TypeVar("T")

SCHEMA_LOCK_ID = 7_071_001  # pg_advisory_xact_lock key shared by every replica
MAX_BIGINT = 2**63 - 1

DDL = """
CREATE TABLE IF NOT EXISTS items (
    id bigserial PRIMARY KEY,
    value text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ledger (
    client text NOT NULL,
    seq bigint NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    written_by text NOT NULL,
    PRIMARY KEY (client, seq)
);
"""

SEED = """
INSERT INTO items (id, value)
SELECT g, 'item-' || g FROM generate_series(1, $1::bigint) AS g
ON CONFLICT DO NOTHING
"""

# SQLSTATE classes that mean "the database is not there for us right now".
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "53", "57")


class DatabaseUnavailable(Exception):
    """The database could not serve this request in time.

    `applied` says what we know about a write: False (it did not happen) or None
    (unknown: the statement was sent and then the connection failed or timed out).
    """

    def __init__(self, reason: str, *, applied: bool | None = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.applied = applied


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database is unreachable/down, not a bad query."""
    if isinstance(exc, asyncpg.DataError):
        return False
    if isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = getattr(exc, "sqlstate", None) or ""
        return sqlstate.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES)
    return False


def connection_still_usable(exc: BaseException) -> bool:
    """True when the server answered with an error and the session is intact."""
    return isinstance(exc, asyncpg.PostgresError) and not is_unavailable(exc)


async def _no_reset(_con: asyncpg.Connection) -> None:
    """We never change session state, so skip asyncpg's reset round trip."""


class Database:
    """The API's view of PostgreSQL: items and the ledger."""

    def __init__(self, settings: ApiSettings) -> None:
        self._s = settings
        self._written_by = f"{settings.region}/{settings.replica}"
        self._pool: asyncpg.Pool | None = None
        self._health_con: asyncpg.Connection | None = None
        self._health_lock = asyncio.Lock()
        self._schema_ready = False
        self._maintainer: asyncio.Task[None] | None = None
        self._wake_maintainer = asyncio.Event()
        self._was_up: bool | None = None

    # ---- life cycle -------------------------------------------------------
    async def start(self) -> None:
        """Create the (lazy) pool and start schema maintenance; never blocks on the DB."""
        self._pool = await asyncpg.create_pool(
            self._s.database_url,
            min_size=0,
            max_size=self._s.db_pool_size,
            timeout=self._s.db_connect_timeout_s,
            command_timeout=self._s.db_command_timeout_s,
            max_inactive_connection_lifetime=60.0,
            reset=_no_reset,
            server_settings={"application_name": f"api {self._written_by}"},
        )
        self._kick_maintainer()

    async def close(self) -> None:
        if self._maintainer is not None:
            self._maintainer.cancel()
        if self._health_con is not None:
            self._health_con.terminate()
            self._health_con = None
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), timeout=2.0)
            except (TimeoutError, Exception):
                self._pool.terminate()

    @property
    def schema_ready(self) -> bool:
        return self._schema_ready

    # ---- health -----------------------------------------------------------
    async def ping(self) -> bool:
        """True when `SELECT 1` answers and our schema is there.

        Runs on a dedicated connection so that pool saturation cannot fail health.
        A reachable database without our tables (not created yet, or a standby that
        has not received them) is not usable, so it counts as not connected.
        """
        async with self._health_lock:
            try:
                async with asyncio.timeout(self._s.health_timeout_s):
                    if self._health_con is None or self._health_con.is_closed():
                        self._health_con = await asyncpg.connect(
                            self._s.database_url,
                            timeout=self._s.db_connect_timeout_s,
                            server_settings={"application_name": f"api-health {self._written_by}"},
                        )
                    await self._health_con.fetchval("SELECT 1")
                up = True
            except (Exception, TimeoutError) as exc:
                if self._health_con is not None:
                    self._health_con.terminate()
                    self._health_con = None
                up = False
                if self._was_up is not False:
                    log.warning("database unreachable: %s: %s", type(exc).__name__, exc)
            if up and self._was_up is not True:
                log.info("database reachable")
            self._was_up = up
            if up and not self._schema_ready:
                self._kick_maintainer()
                self._wake_maintainer.set()
            return up and self._schema_ready

    # ---- schema -----------------------------------------------------------
    def _kick_maintainer(self) -> None:
        if self._schema_ready or (self._maintainer is not None and not self._maintainer.done()):
            return
        self._maintainer = asyncio.get_running_loop().create_task(self._maintain_schema())

    async def _maintain_schema(self) -> None:
        delay_s = 0.25
        while not self._schema_ready:
            try:
                self._schema_ready = await self._ensure_schema()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("schema not ensured yet: %s: %s", type(exc).__name__, exc)
            if not self._schema_ready:
                # back off, but retry at once when a health probe sees the DB come back
                self._wake_maintainer.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake_maintainer.wait(), timeout=delay_s)
                delay_s = min(delay_s * 2, 2.0)

    async def _ensure_schema(self) -> bool:
        """Create tables and seed items on a writable DB; on a standby, check they exist."""
        con = await asyncpg.connect(self._s.database_url, timeout=self._s.db_connect_timeout_s)
        try:
            in_recovery = await con.fetchval("SELECT pg_is_in_recovery()", timeout=5)
            if in_recovery:
                present = await con.fetchval(
                    "SELECT to_regclass('public.items') IS NOT NULL"
                    " AND to_regclass('public.ledger') IS NOT NULL",
                    timeout=5,
                )
                if present:
                    log.info("database is a read-only standby; schema present, writes answer 503")
                else:
                    log.info("database is a read-only standby without schema; will retry")
                return bool(present)
            async with con.transaction():
                await con.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK_ID, timeout=10)
                await con.execute(DDL, timeout=10)
                empty = not await con.fetchval("SELECT EXISTS (SELECT 1 FROM items)", timeout=10)
                if empty and self._s.seed_items > 0:
                    await con.execute(SEED, self._s.seed_items, timeout=30)
                    await con.execute(
                        "SELECT setval(pg_get_serial_sequence('items', 'id'),"
                        " (SELECT max(id) FROM items))",
                        timeout=10,
                    )
                    log.info("seeded items 1..%d", self._s.seed_items)
            log.info("schema ready")
            return True
        finally:
            con.terminate()

    # ---- request-side operations -------------------------------------------
    async def _run(
        self,
        fn: Callable[[Any], Awaitable[T]],
        *,
        retry_stale: bool,
    ) -> T:
        """Run `fn(connection)` under the request deadline; map failures to 503 errors."""
        if self._pool is None:
            raise DatabaseUnavailable("database client not started")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._s.request_deadline_s
        attempt = 0
        while True:
            attempt += 1
            sent = False
            try:
                async with asyncio.timeout_at(deadline):
                    con = await self._pool.acquire(timeout=self._s.request_deadline_s)
                    try:
                        sent = True
                        return await fn(con)
                    except BaseException as exc:
                        if not connection_still_usable(exc):
                            con.terminate()  # never hand a doubtful session back
                        raise
                    finally:
                        await self._pool.release(con)
            except asyncpg.ReadOnlySQLTransactionError:
                raise DatabaseUnavailable("database is read-only", applied=False) from None
            except asyncpg.UndefinedTableError:
                self._schema_ready = False
                self._kick_maintainer()
                raise DatabaseUnavailable("schema not ready", applied=False) from None
            except TimeoutError:
                # a silent peer (frozen, partitioned): the other pooled sessions are suspect too
                await self._pool.expire_connections()
                raise DatabaseUnavailable(
                    "database timed out", applied=None if sent else False
                ) from None
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                await self._pool.expire_connections()
                if retry_stale and sent and attempt == 1 and loop.time() < deadline - 0.05:
                    continue
                raise DatabaseUnavailable(
                    f"database unreachable ({type(exc).__name__})",
                    applied=None if sent else False,
                ) from None

    async def get_item(self, item_id: int) -> str | None:
        if not 0 < item_id <= MAX_BIGINT:
            return None

        async def q(con: Any) -> str | None:
            value = await con.fetchval("SELECT value FROM items WHERE id = $1", item_id)
            return None if value is None else str(value)

        return await self._run(q, retry_stale=True)

    async def insert_item(self, value: str) -> int:
        async def q(con: Any) -> int:
            return int(
                await con.fetchval("INSERT INTO items (value) VALUES ($1) RETURNING id", value)
            )

        return await self._run(q, retry_stale=False)

    async def insert_ledger(self, client: str, seq: int) -> None:
        """Durable and idempotent: committed (autocommit) before we answer."""

        async def q(con: Any) -> None:
            await con.execute(
                "INSERT INTO ledger (client, seq, written_by) VALUES ($1, $2, $3)"
                " ON CONFLICT (client, seq) DO NOTHING",
                client,
                seq,
                self._written_by,
            )

        await self._run(q, retry_stale=True)

    async def read_ledger(self, client: str, after: int | None, limit: int) -> list[int]:
        async def q(con: Any) -> list[int]:
            if after is None:
                rows = await con.fetch(
                    "SELECT seq FROM ledger WHERE client = $1 ORDER BY seq LIMIT $2",
                    client,
                    limit,
                )
            else:
                rows = await con.fetch(
                    "SELECT seq FROM ledger WHERE client = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    client,
                    after,
                    limit,
                )
            return [int(r[0]) for r in rows]

        return await self._run(q, retry_stale=True)

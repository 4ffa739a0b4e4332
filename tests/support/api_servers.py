"""Real servers for the API's tests: PostgreSQL 15, Redis, a Redis Cluster, the API.

Each controller starts one real process in its own session, waits for readiness
against a deadline, and stops it TERM -> KILL (PostgreSQL: SIGINT, its fast
shutdown, which does not wait for clients). Logs go to files in the server's temp
dir; `cleanup()` prints their tail, so a failing test shows them in pytest's output.
Addresses are in the API helper's range 127.0.5.0/24.

Limits: Linux, run as root (PostgreSQL runs as the `postgres` OS user via setpriv).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx

from tests.support.processes import Process
from tests.support.waiting import wait_for

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REPO_ROOT = Path(__file__).resolve().parents[2]
AS_POSTGRES = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]


def wait_until(what: str, check: Callable[[], object], deadline_s: float) -> None:
    """`wait_for` with the argument order these tests were written in."""
    wait_for(check, deadline_s, what)


class Postgres:
    """A PostgreSQL 15 primary (initdb) or hot standby (pg_basebackup of `primary`)."""

    def __init__(self, host: str, port: int = 5432, primary: Postgres | None = None):
        self.host, self.port = host, port
        self.dir = Path(tempfile.mkdtemp(prefix="gameday-api-pg-"))
        self.data = self.dir / "data"
        self.sockets = self.dir / "sock"
        self.sockets.mkdir()
        pg = pwd.getpwnam("postgres")
        for path in (self.dir, self.sockets):
            os.chown(path, pg.pw_uid, pg.pw_gid)
        if primary is None:
            self._as_postgres(
                PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--no-sync",
            )  # fmt: skip
            with open(self.data / "pg_hba.conf", "a") as f:
                f.write("host all all 127.0.0.0/8 trust\nhost replication all 127.0.0.0/8 trust\n")
        else:
            self._as_postgres(
                PG_BIN / "pg_basebackup", "-h", primary.host, "-p", primary.port, "-U", "postgres",
                "-D", self.data, "-R", "-X", "stream", "--no-sync",
            )  # fmt: skip
        self.proc = Process(
            [*AS_POSTGRES, str(PG_BIN / "postgres"), "-D", str(self.data),
             "-c", f"listen_addresses={host}", "-c", f"port={port}",
             "-c", f"unix_socket_directories={self.sockets}", "-c", "max_connections=60",
             "-c", "shared_buffers=16MB", "-c", "wal_level=replica", "-c", "max_wal_senders=4",
             "-c", "hot_standby=on"],
            self.dir / "postgres.log",
            name=f"postgres@{host}",
        )  # fmt: skip

    @staticmethod
    def _as_postgres(*argv: object) -> None:
        r = subprocess.run(
            [*AS_POSTGRES, *map(str, argv)], capture_output=True, text=True, timeout=120
        )
        if r.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {r.stdout}\n{r.stderr}")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def ready(self) -> bool:
        r = subprocess.run(
            [
                str(PG_BIN / "pg_isready"),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-t",
                "1",
            ],
            capture_output=True,
            timeout=5,
        )
        return r.returncode == 0

    def start(self, deadline_s: float = 30) -> None:
        self.proc.spawn()
        wait_until(f"{self.proc.name} (log {self.proc.log_path})", self.ready, deadline_s)

    def psql(self, sql: str) -> str:
        r = subprocess.run(
            [str(PG_BIN / "psql"), "-h", self.host, "-p", str(self.port), "-U", "postgres",
             "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {r.stderr.strip()}")
        return r.stdout.strip()

    def stop(self) -> None:
        self.proc.stop(first=signal.SIGINT)  # fast shutdown: disconnects clients

    def cleanup(self) -> None:
        self.stop()
        print(f"--- {self.proc.name} log tail ---\n{self.proc.tail()}")
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    """A standalone redis-server, or one node of a cluster (`cluster=True`)."""

    def __init__(self, host: str, port: int = 6379, *, cluster: bool = False):
        self.host, self.port = host, port
        self.dir = Path(tempfile.mkdtemp(prefix="gameday-api-redis-"))
        argv = ["redis-server", "--bind", host, "--port", str(port), "--dir", str(self.dir),
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--protected-mode", "no"]  # fmt: skip
        if cluster:
            argv += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                     "--cluster-node-timeout", "1000", "--cluster-announce-ip", host,
                     # Redis 7 waits 5 s before a diskless full sync; a replica that never
                     # synced cannot be promoted
                     "--repl-diskless-sync-delay", "0"]  # fmt: skip
        self.proc = Process(argv, self.dir / "redis.log", name=f"redis@{host}:{port}")

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"

    def cli(self, *args: str) -> str:
        r = subprocess.run(
            ["redis-cli", "-h", self.host, "-p", str(self.port), *args],
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(f"redis-cli {args}: {r.stderr.strip()}")
        return r.stdout.strip()

    def start(self, deadline_s: float = 15) -> None:
        self.proc.spawn()
        wait_until(self.proc.name, lambda: self.cli("PING") == "PONG", deadline_s)

    def stop(self) -> None:
        self.proc.stop(first=signal.SIGTERM)

    def cleanup(self) -> None:
        self.stop()
        print(f"--- {self.proc.name} log tail ---\n{self.proc.tail()}")
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisClusterServers:
    """A Redis Cluster created with `redis-cli --cluster create`: the first
    len(hosts) / (1 + replicas_per_master) hosts become masters."""

    def __init__(self, hosts: Sequence[str], port: int = 6379, replicas_per_master: int = 0):
        self.nodes = [Redis(h, port, cluster=True) for h in hosts]
        self.replicas_per_master = replicas_per_master

    def masters(self) -> list[Redis]:
        """Nodes that are masters now (asked of each live node about itself)."""
        out = []
        for node in self.nodes:
            if not node.proc.alive():
                continue
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                if "role:master" in node.cli("INFO", "replication"):
                    out.append(node)
        return out

    def start(self, deadline_s: float = 30) -> None:
        for node in self.nodes:
            node.start()
        r = subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"{n.host}:{n.port}" for n in self.nodes),
             "--cluster-replicas", str(self.replicas_per_master), "--cluster-yes"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {r.stdout}\n{r.stderr}")
        wait_until(
            "redis cluster_state:ok on every node",
            lambda: all("cluster_state:ok" in n.cli("CLUSTER", "INFO") for n in self.nodes),
            deadline_s,
        )
        wait_until(
            "every redis replica in sync with its master",
            self._replicas_in_sync,
            deadline_s,
        )

    def _replicas_in_sync(self) -> bool:
        infos = [n.cli("INFO", "replication") for n in self.nodes]
        replicas = [i for i in infos if "role:slave" in i]
        expected = len(self.nodes) - len(self.nodes) // (1 + self.replicas_per_master)
        return len(replicas) == expected and all("master_link_status:up" in i for i in replicas)

    def cleanup(self) -> None:
        for node in self.nodes:
            node.cleanup()


class TcpLeaderProxy:
    """HAProxy in TCP mode in front of PostgreSQL: `primary` first, `backup` when it is
    down (health check every 200 ms; sessions cut when a server is marked down), as
    the regional HAProxy routes the database URL to the current leader."""

    def __init__(self, host: str, port: int, primary: Postgres, backup: Postgres):
        self.host, self.port = host, port
        self.dir = Path(tempfile.mkdtemp(prefix="gameday-api-haproxy-"))
        cfg = self.dir / "haproxy.cfg"
        cfg.write_text(
            f"""global
    log stdout format raw local0 info
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 1h
    timeout server 1h
    timeout check 500ms
frontend db
    bind {host}:{port}
    default_backend leader
backend leader
    option pgsql-check user postgres
    default-server inter 200 fall 1 rise 1 on-marked-down shutdown-sessions
    server pg1 {primary.host}:{primary.port} check
    server pg2 {backup.host}:{backup.port} check backup
"""
        )
        self.proc = Process(
            ["haproxy", "-db", "-f", str(cfg)], self.dir / "haproxy.log", name=f"haproxy@{host}:{port}"
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def start(self, deadline_s: float = 10) -> None:
        self.proc.spawn()

        def listening() -> bool:
            if not self.proc.alive():
                raise RuntimeError(f"haproxy exited: {self.proc.tail()}")
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True

        wait_until(self.proc.name, listening, deadline_s)

    def cleanup(self) -> None:
        self.proc.stop(first=signal.SIGTERM)
        print(f"--- {self.proc.name} log tail ---\n{self.proc.tail()}")
        shutil.rmtree(self.dir, ignore_errors=True)


class TcpForwarder:
    """A TCP forwarder in this process (asyncio, own thread) whose target can be
    repointed, as a leader route whose leader changes. Repointing cuts every
    forwarded session (as HAProxy's `on-marked-down shutdown-sessions`); with no
    target, or a dead one, a client's connection is accepted then closed."""

    def __init__(self, host: str, port: int, target: tuple[str, int] | None):
        self.host, self.port = host, port
        self.target = target
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = self.target
        try:
            if target is None:
                raise ConnectionRefusedError("no target")
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*target), 1.0)
        except (OSError, TimeoutError):
            writer.close()
            return
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers -= {writer, up_writer}

    def start(self) -> None:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, self.host, self.port), self._loop
        ).result(10)

    def point_to(self, target: tuple[str, int] | None) -> None:
        def repoint() -> None:
            self.target = target
            for w in list(self._writers):
                w.close()

        self._loop.call_soon_threadsafe(repoint)

    def cleanup(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for w in list(self._writers):
                w.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class ApiServer:
    """`python -m stack.api` as a subprocess; ready when `/static` answers."""

    def __init__(
        self,
        host: str,
        port: int,
        database_url: str,
        redis_urls: Sequence[str],
        *,
        cluster: bool = False,
        region: str = "test",
        replica: str = "api-test",
        extra: Sequence[str] = (),
    ):
        self.host, self.port = host, port
        self.dir = Path(tempfile.mkdtemp(prefix="gameday-api-"))
        argv = [sys.executable, "-m", "stack.api", "--host", host, "--port", str(port),
                "--region", region, "--replica", replica, "--database-url", database_url,
                "--seed-items", "1000", *extra]  # fmt: skip
        for url in redis_urls:
            argv += ["--redis-url", url]
        if cluster:
            argv.append("--redis-cluster")
        self.proc = Process(argv, self.dir / "api.log", name=f"api@{host}:{port}", cwd=REPO_ROOT)
        self.client = httpx.Client(base_url=self.base_url, timeout=10.0)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, deadline_s: float = 20) -> float:
        """Start; return seconds until `/static` answered."""
        self.proc.spawn()

        def listening() -> bool:
            if not self.proc.alive():
                raise RuntimeError(f"API exited: {self.proc.tail()}")
            return self.client.get("/static").status_code == 200

        try:
            return wait_until(self.proc.name, listening, deadline_s)
        except Exception:
            print(f"--- {self.proc.name} log tail ---\n{self.proc.tail(60)}")
            raise

    def wait_healthy(self, deadline_s: float = 30) -> float:
        return wait_until(
            f"{self.proc.name} /health 200",
            lambda: self.client.get("/health").status_code == 200,
            deadline_s,
        )

    def stop(self) -> int | None:
        return self.proc.stop(first=signal.SIGTERM)

    def cleanup(self) -> None:
        self.client.close()
        self.stop()
        print(f"--- {self.proc.name} log tail ---\n{self.proc.tail(60)}")
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def running(*servers: Postgres | Redis | RedisClusterServers | ApiServer) -> Iterator[None]:
    """Start `servers` in order (an ApiServer last: wait until healthy); clean every one up in
    reverse order afterwards, also when a start or the test failed."""
    try:
        for server in servers:
            server.start()
        if isinstance(servers[-1], ApiServer):
            servers[-1].wait_healthy()
        yield
    finally:
        for server in reversed(servers):
            server.cleanup()


def why_no_servers() -> str | None:
    """Why the real-server tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root (runs PostgreSQL as the postgres user with setpriv)"
    for tool in (str(PG_BIN / "initdb"), shutil.which("redis-server"), shutil.which("setpriv")):
        if not tool or not Path(tool).exists():
            return f"missing {tool}"
    return None

"""Render the local stack's configuration files from a Topology (pure: returns text).

One function per server kind. The supervisord file lists every program with
`autostart=false`: `stack.up` starts them in dependency order. Only API replicas
restart by themselves (as a Kubernetes pod would); a killed database, Redis or
region stays dead until a rollback starts it again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from stack.layout import Layout, Program
from stack.topology import Topology

PG_BIN = "/usr/lib/postgresql/15/bin"
DELAY_LUA = Path(__file__).resolve().parent / "delay.lua"


# -- programs -------------------------------------------------------------------


def etcd_programs(t: Topology, layout: Layout) -> list[Program]:
    p = t.ports
    cluster = ",".join(f"etcd-{r}=http://{t.etcd_host(r)}:{p.etcd_peer}" for r in t.regions)
    programs = []
    for region in t.regions:
        host = t.etcd_host(region)
        cmd = (
            f"/usr/bin/etcd --name etcd-{region} --data-dir {layout.etcd_dir(region)} "
            f"--listen-client-urls http://{host}:{p.etcd_client} "
            f"--advertise-client-urls http://{host}:{p.etcd_client} "
            f"--listen-peer-urls http://{host}:{p.etcd_peer} "
            f"--initial-advertise-peer-urls http://{host}:{p.etcd_peer} "
            f"--initial-cluster {cluster} --initial-cluster-state new "
            f"--initial-cluster-token gameday-{t.name} --log-level warn"
        )
        programs.append(
            Program(
                f"etcd-{region}", cmd, region, "etcd", environment={"ETCD_UNSUPPORTED_ARCH": ""}
            )
        )
    return programs


_PG_HBA = [
    "local all all trust",
    "host all all 127.0.0.0/8 trust",
    "host replication all 127.0.0.0/8 trust",
]


def patroni_config(t: Topology, layout: Layout, member: str) -> str:
    host = t.pg_host(t.pg_member_region(member))
    p = t.ports
    config = {
        "scope": f"gameday-{t.name}",
        "namespace": "/service/",
        "name": member,
        "restapi": {
            "listen": f"{host}:{p.patroni_rest}",
            "connect_address": f"{host}:{p.patroni_rest}",
        },
        "etcd3": {"hosts": [f"{t.etcd_host(r)}:{p.etcd_client}" for r in t.regions]},
        "bootstrap": _patroni_bootstrap(t),
        "postgresql": _patroni_postgresql(t, layout.pg_dir(member), host),
        # INFO: every leader change and demotion is explained in logs/<member>.log
        "log": {"level": "INFO"},
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False},
    }
    return yaml.safe_dump(config, sort_keys=False)


def _patroni_bootstrap(t: Topology) -> dict[str, Any]:
    """The cluster-wide settings Patroni writes to etcd when it creates the cluster."""
    pg = t.postgres
    return {
        "dcs": {
            "ttl": pg.ttl,
            "loop_wait": pg.loop_wait,
            "retry_timeout": pg.retry_timeout,
            "maximum_lag_on_failover": 16 * 1024 * 1024,
            "synchronous_mode": pg.synchronous_mode,
            "postgresql": {
                "use_pg_rewind": True,
                "use_slots": True,
                "parameters": {
                    "wal_level": "replica",
                    "hot_standby": "on",
                    "wal_log_hints": "on",
                    "max_wal_senders": 10,
                    "max_replication_slots": 10,
                    "max_connections": 200,
                    # pg_rewind (PostgreSQL 15) copies every WAL file of the leader in full,
                    # and each promotion leaves one more segment of the old timeline (16 MB by
                    # default, 1 MB with initdb's wal-segsize below): keep WAL small so a
                    # returning member rewinds in seconds (docs/crash-safety.md).
                    "wal_keep_size": "64MB",
                    "min_wal_size": "32MB",
                },
            },
        },
        "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, {"wal-segsize": "1"}],
        "pg_hba": _PG_HBA,
    }


def _patroni_postgresql(t: Topology, base: Path, host: str) -> dict[str, Any]:
    """One member's PostgreSQL: its address, data directory and local parameters."""
    p = t.ports
    return {
        "listen": f"{host}:{p.postgres}",
        "connect_address": f"{host}:{p.postgres}",
        "data_dir": str(base / "data"),
        "bin_dir": PG_BIN,
        "pgpass": str(base / "pgpass"),
        "authentication": {
            "superuser": {"username": "postgres", "password": "postgres"},
            "replication": {"username": "replicator", "password": "replicator"},
            "rewind": {"username": "postgres", "password": "postgres"},
        },
        "parameters": {
            "unix_socket_directories": str(base / "run"),
            "shared_buffers": "64MB",
            "fsync": "on",
            "synchronous_commit": "on",
            # After a hard kill PostgreSQL flushes its data directory before crash recovery
            # (twice for a returning leader: before pg_rewind and after it): one syncfs()
            # instead of an fsync() per file (~1 000 files, 1-5 ms each on a busy disk).
            "recovery_init_sync_method": "syncfs",
        },
        "pg_hba": _PG_HBA,
        # pg_basebackup's default spread checkpoint made a new replica wait ~7 s
        # (of a ~22 s `gameday up`); fast is fine for a replica of a small database.
        "basebackup": [{"checkpoint": "fast"}],
    }


def patroni_programs(t: Topology, layout: Layout) -> list[Program]:
    return [
        Program(
            m.name,
            f"{t.postgres.patroni} {layout.pg_dir(m.name) / 'patroni.yml'}",
            m.region,
            "postgres",
            user="postgres",
            environment={"HOME": str(layout.pg_dir(m.name)), "PGUSER": "postgres"},
            stopwaitsecs=20,
        )
        for m in t.postgres.members
    ]


def redis_config(t: Topology, layout: Layout, region: str, host: str) -> str:
    spec = t.redis[region]
    lines = [
        f"bind {host}",
        f"port {t.ports.redis}",
        "protected-mode no",
        "daemonize no",
        f"dir {layout.redis_dir(host)}",
        'save ""',
        "appendonly no",
        'logfile ""',
        "loglevel warning",
    ]
    if spec.mode == "cluster":
        lines += [
            "cluster-enabled yes",
            "cluster-config-file nodes.conf",
            # Connections between nodes leave from 127.0.0.1 whatever the bind
            # address: announce our own address or peers record the wrong one.
            f"cluster-announce-ip {host}",
            f"cluster-node-timeout {spec.node_timeout_ms}",
            # A replica may always take over: the data here is a cache.
            "cluster-replica-validity-factor 0",
            # Redis 7 waits 5 s before a replica's first sync; a replica that never
            # synced cannot be promoted.
            "repl-diskless-sync-delay 0",
        ]
    return "\n".join(lines) + "\n"


def redis_programs(t: Topology, layout: Layout) -> list[Program]:
    programs = []
    for region in t.redis:
        for i, host in enumerate(t.redis_hosts(region)):
            conf = layout.redis_dir(host) / "redis.conf"
            programs.append(
                Program(
                    f"redis-{region}-{i + 1}",
                    f"/usr/bin/redis-server {conf}",
                    region,
                    "redis",
                    index=i,
                )
            )
    return programs


def _haproxy_head(sock: Path, lua: bool) -> list[str]:
    """`global` and `defaults`: the part the regional and edge HAProxy configs share."""
    delay = [f"  lua-load {DELAY_LUA}", "  set-var proc.delay_ms int(0)"] if lua else []
    return [
        "global",
        f"  stats socket {sock} mode 600 level admin",
        "  maxconn 4096",
        *delay,
        "  nbthread 1",
        "defaults",
        "  mode http",
        "  timeout connect 500ms",
        "  timeout client 30s",
        "  timeout server 10s",
        "  timeout check 400ms",
    ]


def _stats_frontend(name: str, bind: str) -> list[str]:
    """The stats page and the Prometheus exporter of one HAProxy."""
    return [
        f"frontend {name}",
        f"  bind {bind}",
        "  http-request use-service prometheus-exporter if { path /metrics }",
        "  stats enable",
        "  stats uri /stats",
    ]


# Every health check: a 500 ms probe, down after 2 failures, up after 1 success.
_CHECK_TIMING = "  default-server inter 500 fastinter 250 downinter 500 fall 2 rise 1"


def regional_haproxy_config(t: Topology, layout: Layout, region: str) -> str:
    p = t.ports
    lb = t.lb_host(region)
    replicas = t.regions[region].api_replicas
    api_host = t.api_host(region)
    servers = []
    for i in range(t.regions[region].api_max_replicas):
        disabled = "" if i < replicas else " disabled"
        servers.append(f"  server api-{region}-{i} {api_host}:{t.api_port(i)} check{disabled}")
    return "\n".join(
        [
            *_haproxy_head(layout.haproxy_sock(region), lua=True),
            "  retries 1",
            "  option redispatch",
            "  option http-keep-alive",
            f"frontend fe_api_{region}",
            f"  bind {lb}:{p.lb_http}",
            # Injected latency (0 unless an experiment sets it); not on the
            # liveness path the load balancers check.
            "  http-request lua.gameday_delay unless { path /static }",
            "  default_backend be_api",
            *_stats_frontend(f"fe_stats_{region}", f"{lb}:{p.lb_stats}"),
            "backend be_api",
            "  balance roundrobin",
            # A replica killed mid-request must not cost the client its request:
            # replay it on another replica (L7 retry), except a non-idempotent
            # item creation (the ledger write is idempotent on (client, seq)).
            "  retries 2",
            "  retry-on conn-failure empty-response response-timeout 502 503",
            "  http-request disable-l7-retry if METH_POST { path /items }",
            # Liveness only: a replica whose database is failing over can still serve cached reads.
            "  option httpchk GET /static",
            "  http-check expect status 200",
            _CHECK_TIMING,
            *servers,
            *_db_leader_listen(t, lb),
            "",
        ]
    )


def _db_leader_listen(t: Topology, lb: str) -> list[str]:
    """TCP to whichever PostgreSQL member Patroni's /primary says is the leader."""
    p = t.ports
    return [
        "listen db_leader",
        "  mode tcp",
        f"  bind {lb}:{p.lb_db}",
        "  timeout client 1h",
        "  timeout server 1h",
        "  option httpchk GET /primary",
        "  http-check expect status 200",
        _CHECK_TIMING + " on-marked-down shutdown-sessions",
        *(
            f"  server {m.name} {t.pg_host(m.region)}:{p.postgres} check port {p.patroni_rest}"
            for m in t.postgres.members
        ),
    ]


def edge_haproxy_config(t: Topology, layout: Layout) -> str:
    g = t.global_
    servers = []
    for region in t.api_regions:
        state = "" if t.regions[region].role == "active" else " disabled"
        servers.append(f"  server {region} {t.lb_host(region)}:{t.ports.lb_http} check{state}")
    return "\n".join(
        [
            *_haproxy_head(layout.haproxy_sock("edge"), lua=False),
            "  option http-keep-alive",
            "frontend fe_edge",
            f"  bind {g.address}:{g.edge_port}",
            "  default_backend be_regions",
            *_stats_frontend("fe_edge_stats", f"{g.address}:{g.edge_stats_port}"),
            # The edge plays DNS / global load balancing: exactly one region is
            # active (`ready`); the failover controller switches it at runtime.
            "backend be_regions",
            "  option httpchk GET /static",
            "  http-check expect status 200",
            _CHECK_TIMING,
            *servers,
            "",
        ]
    )


def haproxy_programs(t: Topology, layout: Layout) -> list[Program]:
    programs = [
        Program(
            f"haproxy-{region}",
            f"/usr/sbin/haproxy -db -f {layout.haproxy_cfg(region)}",
            region,
            "lb",
        )
        for region in t.api_regions
    ]
    programs.append(
        Program(
            "haproxy-edge",
            f"/usr/sbin/haproxy -db -f {layout.haproxy_cfg('edge')}",
            "global",
            "edge",
            autorestart=True,
        )
    )
    return programs


def api_database_url(t: Topology, region: str) -> str:
    return f"postgresql://postgres:postgres@{t.lb_host(region)}:{t.ports.lb_db}/postgres"


def api_programs(t: Topology, layout: Layout) -> list[Program]:
    programs = []
    for region in t.api_regions:
        # Every cluster node as a start-up node: a replica restarted while one
        # master is dead must still find the cluster.
        redis_urls = " ".join(
            f"--redis-url redis://{h}:{t.ports.redis}" for h in t.redis_hosts(region)
        )
        cluster = " --redis-cluster" if t.redis[region].mode == "cluster" else ""
        for i in range(t.regions[region].api_max_replicas):
            name = f"api-{region}-{i}"
            cmd = (
                f"{sys.executable} -m stack.api --host {t.api_host(region)} --port {t.api_port(i)} "
                f"--region {region} --replica {name} --database-url {api_database_url(t, region)} "
                f"{redis_urls}{cluster}"
                + (
                    f" --database-read-url postgresql://postgres:postgres@{t.pg_host(region)}"
                    f":{t.ports.postgres}/postgres"
                    if any(m.region == region for m in t.postgres.members)
                    else ""
                )
            )
            programs.append(
                Program(name, cmd, region, "api", autorestart=True, index=i, stopwaitsecs=5)
            )
    return programs


def prometheus_config(t: Topology, layout: Layout) -> str:
    p = t.ports
    g = t.global_
    lbs = [f"{t.lb_host(r)}:{p.lb_stats}" for r in t.api_regions] + [
        f"{g.address}:{g.edge_stats_port}"
    ]
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "5s"},
        "scrape_configs": [
            {
                "job_name": "prometheus",
                "static_configs": [{"targets": [f"{g.address}:{g.prometheus_port}"]}],
            },
            {
                "job_name": "api",
                "file_sd_configs": [{"files": [str(layout.api_targets)], "refresh_interval": "1s"}],
            },
            {"job_name": "haproxy", "static_configs": [{"targets": lbs}]},
            {
                "job_name": "patroni",
                "scrape_interval": "2s",
                "scrape_timeout": "1s",
                "static_configs": [
                    {
                        "targets": [
                            f"{t.pg_host(m.region)}:{p.patroni_rest}" for m in t.postgres.members
                        ]
                    }
                ],
            },
            {
                "job_name": "etcd",
                "scrape_interval": "5s",
                "scrape_timeout": "2s",
                "static_configs": [
                    {"targets": [f"{t.etcd_host(r)}:{p.etcd_client}" for r in t.regions]}
                ],
            },
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)


def api_targets(t: Topology, running: dict[str, list[int]]) -> str:
    """file_sd content: the API replicas that should be up, labelled by region."""
    groups = [
        {
            "targets": [f"{t.api_host(region)}:{t.api_port(i)}"],
            "labels": {"region": region, "replica": f"api-{region}-{i}"},
        }
        for region, indexes in running.items()
        for i in sorted(indexes)
    ]
    return json.dumps(groups, indent=1)


def prometheus_program(t: Topology, layout: Layout) -> Program:
    g = t.global_
    d = layout.prometheus_dir
    cmd = (
        f"/usr/bin/prometheus --config.file={d / 'prometheus.yml'} --storage.tsdb.path={d / 'data'} "
        f"--web.listen-address={g.address}:{g.prometheus_port} --storage.tsdb.retention.time=2d "
        "--web.enable-lifecycle --log.level=warn"
    )
    return Program("prometheus", cmd, "global", "prometheus", autorestart=True)


def all_programs(t: Topology, layout: Layout, extra: list[Program] | None = None) -> list[Program]:
    return [
        *etcd_programs(t, layout),
        *patroni_programs(t, layout),
        *redis_programs(t, layout),
        *haproxy_programs(t, layout),
        *api_programs(t, layout),
        prometheus_program(t, layout),
        *(extra or []),
    ]


def supervisord_config(layout: Layout, programs: list[Program]) -> str:
    lines = [
        "[unix_http_server]",
        f"file={layout.supervisor_sock}",
        "chmod=0700",
        "[supervisord]",
        f"logfile={layout.logs / 'supervisord.log'}",
        f"pidfile={layout.supervisor_pid}",
        "logfile_maxbytes=10MB",
        "logfile_backups=1",
        "loglevel=info",
        "nodaemon=false",
        "minfds=4096",
        f"directory={layout.root}",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "[supervisorctl]",
        f"serverurl=unix://{layout.supervisor_sock}",
    ]
    for prog in programs:
        lines += [
            f"[program:{prog.name}]",
            f"command={prog.command}",
            "autostart=false",
            f"autorestart={'true' if prog.autorestart else 'false'}",
            "startsecs=0",
            "startretries=1000",
            f"stopwaitsecs={prog.stopwaitsecs}",
            "redirect_stderr=true",
            f"stdout_logfile={layout.logs / (prog.name + '.log')}",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=1",
        ]
        if prog.user:
            lines.append(f"user={prog.user}")
        env = {"PYTHONUNBUFFERED": "1", **prog.environment}
        env_text = ",".join(f'{k}="{v}"' for k, v in env.items())
        lines.append(f"environment={env_text}")
    return "\n".join(lines) + "\n"

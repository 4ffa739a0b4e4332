"""Bring the local HA stack up (idempotent, in dependency order) and take it down.

`up` renders every config file, starts supervisord, then starts programs in
order with a readiness wait and deadline for each stage. On a stack that is
already running it first heals what a dead run left behind (stack/heal.py). If
any stage fails, every process is stopped and the error names what did not come
up; the data and the logs stay in the state directory unless asked otherwise.
`down` thaws and stops everything, sweeps any stray process we started
(PostgreSQL's daemonized postmaster and its backends included), checks that no
port of the topology is still listening, and removes the state directory unless
asked to keep it, only when gameday created it (stack/state_dir.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from bedrock.errors import InputError, SetupError
from stack import render
from stack.controllers import write_configs
from stack.handles import read_replicas
from stack.layout import Layout, Program
from stack.start_sequence import StartSequence
from stack.state_dir import check_state_dir, claim_state_dir, remove_state_dir, resolve_state_dir
from stack.supervisor import Supervisor, process_tree, signal_tree
from stack.topology import Topology

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def layout_for(t: Topology, state_dir: Path | None = None) -> Layout:
    return Layout(resolve_state_dir(state_dir, t.state_dir))


def supervisor_for(layout: Layout) -> Supervisor:
    return Supervisor(layout.supervisor_conf, layout.supervisor_sock, layout.supervisor_pid)


def extra_programs(t: Topology, layout: Layout) -> list[Program]:
    """The failover controllers (two, one leading)."""
    from stack.controllers import controller_programs

    return controller_programs(t, layout)


# -- port checks ------------------------------------------------------------------


def port_holder(host: str, port: int) -> str:
    for conn in psutil.net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.laddr.ip in (host, "0.0.0.0", "::"):
                if conn.pid:
                    try:
                        proc = psutil.Process(conn.pid)
                        return f"pid {conn.pid} ({' '.join(proc.cmdline())[:120]})"
                    except psutil.Error:
                        return f"pid {conn.pid}"
                return "an unknown process"
    return "an unknown process"


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def check_ports_free(t: Topology, source: str) -> None:
    problems = []
    for host, port, owner in t.listeners():
        if port_in_use(host, port):
            problems.append(
                f"{source}: port {host}:{port} (for {owner}) is already in use by {port_holder(host, port)}"
            )
    if problems:
        raise InputError("\n".join(problems))


def check_patroni(t: Topology, source: str) -> None:
    """The topology's Patroni executable must be installed (scripts/setup.sh does it)."""
    exe = t.postgres.patroni
    if not os.access(exe, os.X_OK):
        raise SetupError(
            f"{source}: postgres.patroni: {exe} is not installed or not executable "
            "(bash scripts/setup.sh installs it)"
        )


# -- rendering --------------------------------------------------------------------


def _write(path: Path, text: str, owner: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if owner:
        shutil.chown(path, owner, owner)


def render_all(t: Topology, layout: Layout, programs: list[Program]) -> None:
    layout.root.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.root, 0o755)
    layout.logs.mkdir(exist_ok=True)
    for region in t.regions:
        layout.etcd_dir(region).mkdir(parents=True, exist_ok=True)
        os.chmod(layout.etcd_dir(region), 0o700)
    for member in t.postgres.members:
        base = layout.pg_dir(member.name)
        for sub in (base, base / "run"):
            sub.mkdir(parents=True, exist_ok=True)
            shutil.chown(sub, "postgres", "postgres")
        os.chmod(base.parent, 0o755)
        _write(
            base / "patroni.yml", render.patroni_config(t, layout, member.name), owner="postgres"
        )
    for region in t.redis:
        for host in t.redis_hosts(region):
            _write(
                layout.redis_dir(host) / "redis.conf", render.redis_config(t, layout, region, host)
            )
    for region in t.api_regions:
        _write(layout.haproxy_cfg(region), render.regional_haproxy_config(t, layout, region))
    _write(layout.haproxy_cfg("edge"), render.edge_haproxy_config(t, layout))
    _write(layout.prometheus_dir / "prometheus.yml", render.prometheus_config(t, layout))
    if not layout.api_targets.exists():
        running = {r: list(range(t.regions[r].api_replicas)) for r in t.api_regions}
        _write(layout.api_targets, render.api_targets(t, running))
    write_configs(t, layout)
    _write(layout.supervisor_conf, render.supervisord_config(layout, programs))


def write_handles(
    t: Topology, layout: Layout, source: Path, programs: list[Program]
) -> dict[str, Any]:
    g = t.global_
    replicas_file = layout.root / "replicas.json"
    if replicas_file.exists():
        replicas = read_replicas(replicas_file)
    else:
        replicas = {r: t.regions[r].api_replicas for r in t.api_regions}
        replicas_file.write_text(json.dumps(replicas))
    handles = {
        "schema": "gameday.stack/1",
        "topology": str(source),
        "state_dir": str(layout.root),
        "entry_url": f"http://{g.address}:{g.edge_port}",
        "prometheus_url": f"http://{g.address}:{g.prometheus_port}",
        "edge_admin_socket": str(layout.haproxy_sock("edge")),
        "edge_backend": "be_regions",
        "regions": {
            r: {
                "role": t.regions[r].role,
                "url": f"http://{t.lb_host(r)}:{t.ports.lb_http}",
                "admin_socket": str(layout.haproxy_sock(r)),
                "api_replicas": t.regions[r].api_replicas,
                "api_max_replicas": t.regions[r].api_max_replicas,
                "api_host": t.api_host(r),
                "api_base_port": t.ports.api_base,
                "database_url": render.api_database_url(t, r),
            }
            for r in t.api_regions
        },
        "patroni_urls": {
            m.name: f"http://{t.pg_host(m.region)}:{t.ports.patroni_rest}"
            for m in t.postgres.members
        },
        "redis_cluster": {r: [f"{h}:{t.ports.redis}" for h in t.redis_hosts(r)] for r in t.redis},
        "failover_urls": [
            f"http://{g.address}:{port}" for port in g.failover_ports[: t.failover.controllers]
        ],
        "events_dir": str(layout.root / "events"),
        "programs": {
            p.name: {"region": p.region, "role": p.role, "index": p.index} for p in programs
        },
        "updated_wall": time.time(),
    }
    layout.handles.write_text(json.dumps(handles, indent=2))
    return handles


# -- bring-up ---------------------------------------------------------------------


def bring_up(
    t: Topology,
    source: Path,
    state_dir: Path | None = None,
    progress: Progress = _quiet,
    deadline_s: float = 90.0,
    wipe_on_failure: bool = False,
) -> dict[str, Any]:
    layout = layout_for(t, state_dir)
    check_state_dir(layout.root)
    sup = supervisor_for(layout)
    already = sup.running()
    check_patroni(t, str(source))
    if not already:
        check_ports_free(t, str(source))
    elif layout.handles.exists():
        _heal_first(layout, progress)
    claim_state_dir(layout.root)
    programs = render.all_programs(t, layout, extra_programs(t, layout))
    render_all(t, layout, programs)
    handles = write_handles(t, layout, source, programs)
    replicas = read_replicas(layout.root / "replicas.json")
    seq = StartSequence(t, sup, programs, handles, progress, deadline_s)
    try:
        progress("starting supervisord")
        sup.start()
        seq.start_base()
        seq.start_database_leader_and_redis(already)
        seq.start_replicas_and_api(replicas)
        seq.wait_serving()
        seq.start_controllers()
        progress(f"stack ready in {time.monotonic() - seq.started:.1f} s")
    except BaseException:
        kept = (
            "removing the state directory"
            if wipe_on_failure
            else f"data and logs kept in {layout.root} (logs: {layout.logs}; `gameday down` removes them)"
        )
        progress(f"bring-up failed: stopping every process; {kept}")
        for problem in tear_down(t, state_dir, keep_data=not wipe_on_failure):
            progress(problem)
        raise
    return handles


def _heal_first(layout: Layout, progress: Progress, deadline_s: float = 30.0) -> None:
    """A running stack may carry faults of a dead run: undo them, or refuse naming recover."""
    from stack.control import Stack
    from stack.heal import heal

    progress("the stack is already running: undoing what a dead run may have left")
    report = heal(Stack.open(layout.root), lambda m: progress(f"recover: {m}"), deadline_s)
    if not report.ok:
        raise SetupError(
            f"the running stack at {layout.root} could not be recovered in {deadline_s:.0f} s: "
            + "; ".join(report.problems)
            + ". Run `gameday recover` (or `gameday down`, then `gameday up`)"
        )


# -- tear-down --------------------------------------------------------------------


def _ours(proc: psutil.Process, root: Path, t: Topology) -> bool:
    try:
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        return False
    if str(root) in cmd:
        return True
    return "stack.api" in cmd and any(f"--host {t.api_host(r)} " in cmd for r in t.api_regions)


def stray_processes(t: Topology, layout: Layout) -> list[psutil.Process]:
    """Our processes, their descendants, and each member's postmaster tree (PostgreSQL
    backends' command lines do not name the state directory)."""
    me = os.getpid()
    # Never this process or its callers (a shell or `flock` naming the state directory).
    spared = {me} | {p.pid for p in psutil.Process(me).parents()}
    found: dict[int, psutil.Process] = {}
    for proc in psutil.process_iter():
        if proc.pid not in spared and _ours(proc, layout.root, t):
            found.update((p.pid, p) for p in process_tree(proc.pid))
    for member in t.postgres.members:
        pid = _postmaster_pid(layout, member.name)
        if pid:
            found.update((p.pid, p) for p in process_tree(pid))
    return [p for pid, p in found.items() if pid not in spared]


def _postmaster_pid(layout: Layout, member: str) -> int | None:
    try:
        # a negative pid: a single-user (standalone) backend, PostgreSQL's own convention
        pid = abs(int((layout.pg_dir(member) / "data" / "postmaster.pid").read_text().split()[0]))
    except (OSError, ValueError, IndexError):
        return None
    try:
        proc = psutil.Process(pid)
        return pid if "postgres" in proc.name() else None
    except (psutil.Error, ValueError):  # pid 0 or garbage in the file
        return None


def listening_ports(t: Topology) -> list[str]:
    return [f"{h}:{p} ({o})" for h, p, o in t.listeners() if port_in_use(h, p)]


def tear_down(t: Topology, state_dir: Path | None = None, keep_data: bool = False) -> list[str]:
    """Stop everything; return a list of problems (empty when nothing is left)."""
    layout = layout_for(t, state_dir)
    check_state_dir(layout.root)
    sup = supervisor_for(layout)
    # A frozen process cannot act on TERM: thaw everything first (a dead run may have
    # left a region stopped), so supervisord's graceful stop works.
    signal_tree(stray_processes(t, layout), signal.SIGCONT)
    sup.shutdown()
    strays = stray_processes(t, layout)
    for proc in strays:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    signal_tree(strays, signal.SIGCONT)
    _, alive = psutil.wait_procs(strays, timeout=5)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)
    deadline = time.monotonic() + 10
    left = listening_ports(t)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = listening_ports(t)
    problems = [f"still listening: {p}" for p in left]
    problems += [f"still running: pid {p.pid}" for p in stray_processes(t, layout)]
    if not keep_data and not problems:
        remove_state_dir(layout.root)
    elif not keep_data:
        problems.append(f"state directory {layout.root} kept: processes are still left")
    return problems

"""Subcommands for the local stack: up, status, down, logs, and `stack` fault primitives."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from bedrock import options
from bedrock.errors import InputError
from bedrock.names import inside
from stack.topology import DEFAULT_TOPOLOGY, load_topology


def _topology_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--topology", type=Path, default=None, help=f"topology YAML (default {DEFAULT_TOPOLOGY})"
    )
    options.add_state_dir(
        p, help="where the stack keeps its state (default from topology, or $GAMEDAY_STATE_DIR)"
    )


def register(sub: Any) -> None:
    _register_lifecycle(sub)
    _register_primitives(sub)


def _register_lifecycle(sub: Any) -> None:
    """up, status, down, logs, validate-topology."""
    p = sub.add_parser("up", help="bring the local HA stack up and wait until every part is ready")
    _topology_arg(p)
    p.add_argument(
        "--deadline",
        type=options.number(1, 3600),
        default=120.0,
        help="seconds to wait for readiness (default 120)",
    )
    p.add_argument(
        "--wipe-on-failure",
        action="store_true",
        help="when the start fails, delete the state directory (default: keep data and logs)",
    )
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("status", help="show every process of the stack: region, role, pid, health")
    options.add_state_dir(p)
    p.add_argument(
        "--json", action="store_true", help="machine-readable output with the stack's URLs"
    )
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("down", help="stop the stack; nothing is left running or listening")
    _topology_arg(p)
    p.add_argument(
        "--keep-data", action="store_true", help="keep databases and logs for a later `up`"
    )
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("logs", help="print a component's log (or list the logs)")
    p.add_argument(
        "component",
        nargs="?",
        type=options.name,
        help="program name, e.g. pg-primary, api-primary-0, haproxy-edge",
    )
    options.add_state_dir(p)
    p.add_argument("-n", "--lines", type=options.integer(1, 1_000_000), default=50)
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser(
        "validate-topology", help="validate a topology file and exit (2 when invalid)"
    )
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_validate)


def _register_primitives(sub: Any) -> None:
    """`stack ACTION`: the fault and scaling primitives, one subparser each."""
    p = sub.add_parser("stack", help="fault and scaling primitives on the running stack")
    options.add_state_dir(p)
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    _register_process_faults(ssub)
    _register_stack_faults(ssub)


def _register_process_faults(ssub: Any) -> None:
    """kill/freeze/thaw/start a program; kill/freeze/restore a region."""
    for name, help_text in [
        ("kill", "SIGKILL a process and its children (API replicas restart like pods)"),
        ("freeze", "SIGSTOP a process tree"),
        ("thaw", "SIGCONT a process tree"),
        ("start", "start a stopped program"),
    ]:
        q = ssub.add_parser(name, help=help_text)
        q.add_argument("program", type=options.name)
        q.set_defaults(func=cmd_stack)
    for name, help_text in [
        ("kill-region", "power-cut a region: everything in it dies and stays dead"),
        ("freeze-region", "freeze every process of a region (a gray failure)"),
        ("restore-region", "bring a killed or frozen region back"),
    ]:
        q = ssub.add_parser(name, help=help_text)
        q.add_argument("region", type=options.region)
        if name == "restore-region":
            q.add_argument(
                "--failback", action="store_true", help="then bring traffic and the DB leader back"
            )
        q.set_defaults(func=cmd_stack)


def _register_stack_faults(ssub: Any) -> None:
    """The leaders' faults, scaling, edge routing and the leaders' query."""
    q = ssub.add_parser(
        "kill-db-leader", help="hard-kill the Patroni leader (Patroni and PostgreSQL)"
    )
    q.set_defaults(func=cmd_stack)
    q = ssub.add_parser("kill-redis-master", help="hard-kill one Redis Cluster master")
    q.add_argument("addr", nargs="?")
    q.set_defaults(func=cmd_stack)
    q = ssub.add_parser("scale", help="set a region's API replica count")
    q.add_argument("region", type=options.region)
    q.add_argument("replicas", type=options.integer(0, 40))
    q.set_defaults(func=cmd_stack)
    q = ssub.add_parser("switch-edge", help="route the edge to one region")
    q.add_argument("region", type=options.region)
    q.set_defaults(func=cmd_stack)
    q = ssub.add_parser(
        "leaders", help="the database leader, Redis masters and the edge's active region"
    )
    q.set_defaults(func=cmd_stack)


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = load_topology(args.file)
    t = loaded.topology
    print(f"{loaded.source}: ok ({', '.join(t.regions)}; {len(t.listeners())} listeners)")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from stack.heal import run_lock
    from stack.state_dir import check_state_dir
    from stack.up import bring_up, layout_for

    loaded = load_topology(args.topology)
    start = time.monotonic()

    def progress(msg: str) -> None:
        print(f"[{time.monotonic() - start:5.1f}s] {msg}", file=sys.stderr, flush=True)

    root = layout_for(loaded.topology, args.state_dir).root
    check_state_dir(root)  # refuses /, ., a home or a foreign directory (exit 2)
    # A live run owns a running stack: refuse rather than heal under it.
    with run_lock(root) if root.is_dir() else contextlib.nullcontext():
        handles = bring_up(
            loaded.topology,
            loaded.source,
            args.state_dir,
            progress,
            args.deadline,
            wipe_on_failure=args.wipe_on_failure,
        )
    print(f"entry point: {handles['entry_url']}")
    print(f"prometheus:  {handles['prometheus_url']}")
    print(f"state:       {handles['state_dir']}")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from stack.up import tear_down

    loaded = load_topology(args.topology)
    problems = tear_down(loaded.topology, args.state_dir, keep_data=args.keep_data)
    for problem in problems:
        print(f"gameday down: {problem}", file=sys.stderr)
    if problems:
        return 3
    print(
        "stack is down: no process, no listening port" + (" (data kept)" if args.keep_data else "")
    )
    return 0


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def cmd_status(args: argparse.Namespace) -> int:
    from stack.control import Stack

    stack = Stack.open(args.state_dir)
    status = stack.status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    rows = [["PROCESS", "REGION", "ROLE", "PID", "STATE", "HEALTHY"]]
    for p in status["processes"]:
        healthy = {True: "yes", False: "NO", None: "-"}[p["healthy"]]
        rows.append([p["name"], p["region"], p["role"], str(p["pid"] or "-"), p["state"], healthy])
    print(_table(rows))
    print()
    print(
        f"entry point   {status['entry_url']}  (edge routes to: {', '.join(status['edge_active']) or 'nothing'})"
    )
    for region, info in status["regions"].items():
        print(f"region        {region}: {info['url']}  replicas {info['replicas']}")
    print(f"prometheus    {status['prometheus_url']}")
    print(f"db leader     {status['db_leader'] or 'NONE'}")
    print(f"redis masters {', '.join(status['redis_masters']) or 'NONE'}")
    unhealthy = [p for p in status["processes"] if p["healthy"] is False or p["state"] != "RUNNING"]
    return 1 if unhealthy else 0


def cmd_logs(args: argparse.Namespace) -> int:
    from stack.control import Stack

    stack = Stack.open(args.state_dir)
    logs = stack.root / "logs"
    if not args.component:
        for path in sorted(logs.glob("*.log")):
            print(path.stem)
        return 0
    path = inside(logs, f"{args.component}.log", what="log")
    if not path.is_file():
        raise InputError(
            f"no log for {args.component!r}; known: {', '.join(sorted(p.stem for p in logs.glob('*.log')))}"
        )
    lines = path.read_text(errors="replace").splitlines()
    print("\n".join(lines[-args.lines :]))
    return 0


def cmd_stack(args: argparse.Namespace) -> int:
    from stack.control import Stack

    stack = Stack.open(args.state_dir)
    action = args.action
    result: Any
    if action == "kill":
        result = {"killed": stack.kill(args.program)}
    elif action == "freeze":
        result = {"frozen": stack.freeze(args.program)}
    elif action == "thaw":
        result = {"thawed": stack.thaw(args.program)}
    elif action == "start":
        stack.start(args.program)
        result = {"started": args.program}
    elif action == "kill-region":
        result = stack.kill_region(args.region)
    elif action == "freeze-region":
        result = stack.freeze_region(args.region)
    elif action == "restore-region":
        stack.restore_region(args.region)
        result = {"restored": args.region}
        if args.failback:
            from stack.failback import failback

            result["failback"] = failback(stack, args.region)
    elif action == "kill-db-leader":
        result = stack.kill_db_leader()
    elif action == "kill-redis-master":
        result = stack.kill_redis_master(args.addr)
    elif action == "scale":
        stack.scale(args.region, args.replicas)
        result = {"region": args.region, "replicas": args.replicas}
    elif action == "switch-edge":
        stack.switch_edge(args.region)
        result = {"edge": args.region}
    else:  # leaders
        status = stack.status()
        result = {k: status[k] for k in ("db_leader", "redis_masters", "edge_active")}
    print(json.dumps(result))
    return 0

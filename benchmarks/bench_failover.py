"""Benchmark: seconds from a region kill to (a) the controller's decision, (b) the edge serving from the secondary.

Against the local stack (the lead's `gameday up`), give its handles:

    python benchmarks/bench_failover.py --trials 5 \\
        --edge-url http://127.0.9.1:8080 --admin-socket .state/edge/admin.sock \\
        --region-url primary=http://127.0.1.1:8080 --region-url secondary=http://127.0.2.1:8080 \\
        --controller-url http://127.0.9.1:9701 --controller-url http://127.0.9.1:9702 \\
        --kill-cmd 'supervisorctl -c .state/supervisord.conf stop "primary:*"' \\
        --restore-cmd 'supervisorctl -c .state/supervisord.conf start "primary:*"'

Without a stack, `--self-test` builds a small one in 127.0.7.0/24: a real edge
HAProxy, a real etcd, two real controllers (`python -m failover`) and two
stand-in region processes; the kill is a SIGKILL of the primary's process.

Per trial: wait for the edge to serve from the primary and the controllers'
cooldown to be over; kill; poll the edge (GET `--path`, 50 Hz, `X-Region`
header) and the controllers' /status; (a) = the failover operation's start
(wall clock) minus the kill time; (b) = the first successful answer from the
secondary that starts a run of successes lasting `--sustain-s`; (c) = when the
admin socket first shows the secondary as the only ready server. Then restore,
wait for the primary to be up, fail back (POST /failback) and go again.
Prints each trial, the median and the max; exit 1 when a trial timed out.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bedrock.runfolder import events  # noqa: E402


def _get(url: str, timeout: float = 0.5) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=timeout)
    except httpx.HTTPError:
        return None


def _status(urls: list[str]) -> dict | None:
    """The leader's /status (None when no controller answers as leader)."""
    for u in urls:
        r = _get(u + "/status", 1.0)
        if r is not None and r.status_code == 200 and r.json().get("leader"):
            return r.json()  # type: ignore[no-any-return]
    return None


def _wait(cond: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def _edge_region(edge: str, path: str) -> str | None:
    r = _get(edge + path)
    return r.headers.get("X-Region") if r is not None and r.status_code == 200 else None


def _edge_admin(args: argparse.Namespace) -> str | None:
    """The region whose be_regions server is the only one ready, from the edge's admin socket."""
    from failover.backends.haproxy import HAProxyRuntimeSwitch
    from failover.errors import TrafficSwitchError

    try:
        return HAProxyRuntimeSwitch(Path(args.admin_socket), args.backend).current()
    except TrafficSwitchError:
        return None


def prepare(args: argparse.Namespace, home: str) -> None:
    """Edge on the home region, its health up, cooldown over."""

    def home_up() -> bool:
        st = _status(args.controller_url)
        return st is not None and st["regions"][home]["state"] == "up"

    home_url = dict(args.region_url).get(home)
    if home_url:
        _wait(
            lambda: (
                (r := _get(home_url.rstrip("/") + "/health")) is not None and r.status_code == 200
            ),
            args.timeout_s,
            f"{home_url}/health answering 200",
        )
    _wait(home_up, args.timeout_s, f"{home} up in the leader's view")
    st = _status(args.controller_url)
    assert st is not None
    if st["active_region"] != home:
        for u in args.controller_url:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.post(u + "/failback", timeout=2).status_code == 202:
                    break
    _wait(
        lambda: _edge_region(args.edge_url, args.path) == home,
        args.timeout_s,
        f"edge serving from {home}",
    )
    if args.admin_socket:
        _wait(
            lambda: _edge_admin(args) == home,
            args.timeout_s,
            f"be_regions/{home} the only ready server",
        )
    _wait(
        lambda: (
            ((_status(args.controller_url) or {}).get("operation") or {}).get("status")
            != "in_progress"
        ),
        args.timeout_s,
        "no operation",
    )
    st = _status(args.controller_url) or {}
    last, cooldown = st.get("last_switch_wall"), st.get("policy", {}).get("cooldown_s", 0)
    if last is not None:
        time.sleep(max(0.0, last + cooldown - time.time()) + 0.5)


def trial(
    args: argparse.Namespace, kill: Callable[[], None], target: str
) -> dict[str, float | None]:
    """Kill, then time (a) the decision, (b) the edge serving from target, (c) the edge's admin state."""
    t_kill = time.time()
    kill()
    out: dict[str, float | None] = {"decision": None, "edge": None, "admin": None}
    run_start: float | None = None
    next_status = 0.0
    deadline = time.monotonic() + args.timeout_s
    while time.monotonic() < deadline and None in out.values():
        now = time.time()
        if _edge_region(args.edge_url, args.path) == target:
            run_start = run_start if run_start is not None else now
            if now - run_start >= args.sustain_s and out["edge"] is None:
                out["edge"] = run_start - t_kill
        else:
            run_start = None
        if time.monotonic() >= next_status:
            next_status = time.monotonic() + 0.1
            if out["decision"] is None:
                op = (_status(args.controller_url) or {}).get("operation") or {}
                if op.get("kind") == "failover" and op.get("started_wall", 0) >= t_kill:
                    out["decision"] = op["started_wall"] - t_kill
            if out["admin"] is None:
                if not args.admin_socket:
                    out["admin"] = float("nan")
                elif _edge_admin(args) == target:
                    out["admin"] = time.time() - t_kill
        time.sleep(0.02)
    return out


def _shell(cmd: str) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(cmd, shell=True, check=True, timeout=120)

    return run


@contextlib.contextmanager
def self_test_stack(
    workdir: Path,
) -> Iterator[tuple[argparse.Namespace, Callable[[], None], Callable[[], None]]]:
    import yaml

    from tests.support.failover_support import Etcd, HAProxy, Process, free_port, wait_for

    regions = {
        "primary": ("127.0.7.3", free_port("127.0.7.3")),
        "secondary": ("127.0.7.4", free_port("127.0.7.4")),
    }

    def region_proc(name: str) -> Process:
        host, port = regions[name]
        p = Process(
            [sys.executable, "-m", "tests.support.failover_support", name, host, str(port)],
            workdir / f"{name}.log",
        )
        p.spawn()
        wait_for(lambda: _get(f"http://{host}:{port}/health") is not None, 10, f"region {name}")
        return p

    procs = {name: region_proc(name) for name in regions}
    etcd = Etcd(workdir, host="127.0.7.10").start()
    edge = HAProxy(workdir, {n: f"{h}:{p}" for n, (h, p) in regions.items()}).start()
    ctl_urls, ctls = [], []
    for name in ("ctl-1", "ctl-2"):
        port = free_port("127.0.7.20")
        cfg = {
            "identity": name,
            "listen": {"host": "127.0.7.20", "port": port},
            "events_path": str(events.path_of(workdir)),
            "regions": {
                n: {"health_url": f"http://{h}:{p}/health", "target_replicas": 1}
                for n, (h, p) in regions.items()
            },
            "home_region": "primary",
            "detection": {
                "timeout_s": 0.8,
                "down_after": 3,
                "up_after": 3,
            },  # as manifests/local/topology.yaml
            "policy": {"cooldown_s": 5},
            "traffic": {"kind": "haproxy", "socket": str(edge.socket)},
            "lock": {"kind": "etcd", "endpoints": [etcd.client_url], "ttl_s": 3},
        }
        path = workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        p = Process(
            [sys.executable, "-m", "failover", "--config", str(path)], workdir / f"{name}.log"
        )
        p.spawn()
        ctls.append(p)
        ctl_urls.append(f"http://127.0.7.20:{port}")
    args = argparse.Namespace(
        edge_url=edge.url,
        controller_url=ctl_urls,
        admin_socket=str(edge.socket),
        region_url=[(n, f"http://{h}:{p}") for n, (h, p) in regions.items()],
    )

    def kill() -> None:
        procs["primary"].kill()

    def restore() -> None:
        procs["primary"] = region_proc("primary")

    try:
        yield args, kill, restore
    finally:
        for p in [*ctls, *procs.values()]:
            p.stop()
        edge.stop()
        etcd.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--self-test", action="store_true", help="build a small real stack in 127.0.7.0/24"
    )
    ap.add_argument("--edge-url")
    ap.add_argument(
        "--admin-socket", help="edge HAProxy admin socket (reported, checks be_regions)"
    )
    ap.add_argument(
        "--backend", default="be_regions", help="edge backend with one server per region"
    )
    ap.add_argument("--controller-url", action="append", default=[])
    ap.add_argument(
        "--region-url",
        action="append",
        default=[],
        type=lambda v: tuple(v.split("=", 1)),
        help="NAME=URL of a region (its /health is checked before each trial)",
    )
    ap.add_argument("--kill-cmd")
    ap.add_argument("--restore-cmd")
    ap.add_argument("--home", default="primary")
    ap.add_argument("--target", default="secondary")
    ap.add_argument(
        "--path", default="/health", help="edge path probed; answers must carry X-Region"
    )
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--sustain-s", type=float, default=2.0)
    ap.add_argument("--timeout-s", type=float, default=60.0)
    args = ap.parse_args(argv)

    with contextlib.ExitStack() as stack:
        if args.self_test:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-failover-"))
            )
            handles, kill, restore = stack.enter_context(self_test_stack(workdir))
            for k, v in vars(handles).items():
                setattr(args, k, v)
        else:
            if not (args.edge_url and args.controller_url and args.kill_cmd and args.restore_cmd):
                ap.error(
                    "give --edge-url, --controller-url, --kill-cmd and --restore-cmd (or --self-test)"
                )
            kill, restore = _shell(args.kill_cmd), _shell(args.restore_cmd)
        results: dict[str, list[float]] = {"decision": [], "admin": [], "edge": []}
        failed = 0
        for i in range(1, args.trials + 1):
            prepare(args, args.home)
            r = trial(args, kill, args.target)
            shown = ", ".join(f"{k} {'-' if v is None else f'{v:.2f} s'}" for k, v in r.items())
            print(f"trial {i}: {shown}", flush=True)
            if r["decision"] is None or r["edge"] is None:
                failed += 1
            for k, v in r.items():
                if v is not None and v == v:  # not None, not NaN
                    results[k].append(v)
            restore()
        if args.self_test:
            prepare(args, args.home)
    labels = {
        "decision": "kill -> controller decision",
        "admin": f"kill -> edge admin state on {args.target}",
        "edge": f"kill -> edge serving from {args.target} (sustained {args.sustain_s:.0f} s)",
    }
    for key, xs in results.items():
        if xs:
            print(
                f"{labels[key]}: median {statistics.median(xs):.2f} s, max {max(xs):.2f} s, n={len(xs)}"
            )
        elif key != "admin" or args.admin_socket:
            print(f"{labels[key]}: no data (inconclusive)")
    if failed:
        print(f"{failed} trial(s) timed out after {args.timeout_s} s")
    edges = results["edge"]
    return 1 if failed or not edges else 0


if __name__ == "__main__":
    sys.exit(main())

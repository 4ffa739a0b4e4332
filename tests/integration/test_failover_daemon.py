"""The real daemon (`python -m failover`) x2 with a REAL etcd lock and a REAL edge HAProxy.

Regions are stand-in HTTP servers (tests/support/failover_support.py). Kill the
primary: exactly one controller switches the edge to the secondary; stop the
leader with SIGTERM: the other takes the lead. Also: bad config -> exit 2.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.failover_support import Etcd, HAProxy, Process, RegionServer, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


def controller_config(
    tmp: Path,
    name: str,
    etcd: Etcd,
    edge: HAProxy,
    regions: dict[str, RegionServer],
    extra: dict | None = None,
) -> Path:
    host = "127.0.7.20"
    cfg = {
        "identity": name,
        "period_s": 0.5,
        "listen": {"host": host, "port": free_port(host)},
        "events_path": str(tmp / "events.jsonl"),
        "regions": {
            r: {"health_url": s.health_url, "target_replicas": 1} for r, s in regions.items()
        },
        "home_region": "primary",
        "detection": {"timeout_s": 0.3, "down_after": 3, "up_after": 2},
        "policy": {"cooldown_s": 5},
        "traffic": {"kind": "haproxy", "socket": str(edge.socket)},
        "lock": {
            "kind": "etcd",
            "endpoints": [etcd.client_url],
            "ttl_s": 2,
            "prefix": f"/fo-{tmp.name}",
        },
        "notifiers": [{"kind": "log"}],
        **(extra or {}),
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def url_of(cfg: Path) -> str:
    c = yaml.safe_load(cfg.read_text())["listen"]
    return f"http://{c['host']}:{c['port']}"


def status(cfg: Path) -> dict:
    try:
        return httpx.get(url_of(cfg) + "/status", timeout=1).json()
    except httpx.HTTPError:
        return {}


def events(tmp: Path) -> list[dict]:
    p = tmp / "events.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []


def start_stack(tmp_path: Path, extra: dict | None = None):
    regions = {
        "primary": RegionServer("primary", "127.0.7.3"),
        "secondary": RegionServer("secondary", "127.0.7.4"),
    }
    etcd = Etcd(tmp_path, host="127.0.7.10").start()
    edge = HAProxy(tmp_path, {r: s.addr for r, s in regions.items()}).start()
    ctls = []
    for name in ("ctl-1", "ctl-2"):
        cfg = controller_config(tmp_path, name, etcd, edge, regions, extra)
        proc = Process(
            [sys.executable, "-m", "failover", "--config", str(cfg)], tmp_path / f"{name}.log"
        )
        proc.spawn()
        ctls.append((name, cfg, proc))

    def stop() -> None:
        for _, _, proc in ctls:
            proc.stop()
        edge.stop()
        etcd.stop()
        for s in regions.values():
            s.stop()

    return regions, edge, ctls, stop


@pytest.fixture
def stack(tmp_path):
    regions, edge, ctls, stop = start_stack(tmp_path)
    yield tmp_path, regions, edge, ctls
    stop()


def test_kill_primary_one_controller_switches_the_edge_then_leader_handover(stack):
    tmp, regions, edge, ctls = stack
    wait_for(lambda: all(status(cfg).get("regions", {}).get("primary", {}).get("state") == "up"
                         for _, cfg, _ in ctls), 30, "both controllers see primary up")  # fmt: skip
    leader = wait_for(
        lambda: next((n for n, cfg, _ in ctls if status(cfg).get("leader")), None), 10, "a leader"
    )
    assert httpx.get(edge.url + "/", timeout=2).headers["X-Region"] == "primary"
    # a standby refuses to act and points at the leader; the CLI follows it once
    by_name = {n: cfg for n, cfg, _ in ctls}
    standby = next(n for n in by_name if n != leader)
    r = httpx.post(url_of(by_name[standby]) + "/failback", timeout=2)
    assert r.status_code == 409 and r.json()["leader_url"] == url_of(by_name[leader])
    refused = subprocess.run(
        [sys.executable, "-m", "gameday", "failover", "failback", "--url", url_of(by_name[standby])],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )  # fmt: skip
    assert refused.returncode == 2 and "already serving from home region primary" in refused.stderr

    regions["primary"].healthy = False  # /health 503: the region is sick
    wait_for(lambda: httpx.get(edge.url + "/", timeout=2).headers.get("X-Region") == "secondary", 20,
             "edge serving from secondary")  # fmt: skip
    wait_for(
        lambda: any(e["kind"] == "failover.completed" for e in events(tmp)),
        10,
        "failover completed",
    )
    ev = events(tmp)
    detected = [e for e in ev if e["kind"] == "failover.detected"]
    assert (
        len(detected) == 1 and detected[0]["detail"]["by"] == leader
    )  # exactly one controller acted
    assert {
        e["detail"]["by"] for e in ev if e["kind"].startswith("failover.") and "by" in e["detail"]
    } == {leader}

    # the leader is stopped cleanly: it releases the lock and the other leads at once
    name_to = {n: (cfg, proc) for n, cfg, proc in ctls}
    other = next(n for n in name_to if n != leader)
    name_to[leader][1].popen.send_signal(signal.SIGTERM)
    assert name_to[leader][1].popen.wait(10) == 0
    wait_for(lambda: status(name_to[other][0]).get("leader") is True, 10, "the standby to lead")
    assert (
        status(name_to[other][0])["active_region"] == "secondary"
    )  # state handed over through etcd
    roles = [
        (e["detail"]["identity"], e["detail"]["role"])
        for e in events(tmp)
        if e["kind"] == "controller.leader"
    ]
    assert (leader, "released") in roles and roles[-1] == (other, "leader")

    # manual failback through the CLI once the primary is healthy again
    regions["primary"].healthy = True
    wait_for(
        lambda: status(name_to[other][0])["regions"]["primary"]["state"] == "up", 10, "primary up"
    )
    out = subprocess.run(
        [sys.executable, "-m", "gameday", "failover", "failback", "--config", str(name_to[other][0])],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    wait_for(
        lambda: httpx.get(edge.url + "/", timeout=2).headers.get("X-Region") == "primary",
        20,
        "failback",
    )
    st = subprocess.run(
        [sys.executable, "-m", "gameday", "failover", "status", "--config", str(name_to[other][0])],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )  # fmt: skip
    assert st.returncode == 0 and "leader; active region primary" in st.stdout, st.stdout


def test_bad_config_exits_2_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("regions: {primary: {health_url: nope}}\nhome_region: primary\n")
    out = subprocess.run(
        [sys.executable, "-m", "failover", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert out.returncode == 2
    assert "regions.primary.health_url" in out.stderr and "traffic" in out.stderr
    val = subprocess.run(
        [sys.executable, "-m", "gameday", "failover", "validate", "--config", str(bad)],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )  # fmt: skip
    assert val.returncode == 2 and "regions.primary.health_url" in val.stderr


def test_leader_killed_mid_failover_the_other_finishes_it(tmp_path):
    scaler = {
        "kind": "local",
        "factory": "tests.support.failover_support:FlagFileStack",
        "options": {
            "ready_flag": str(tmp_path / "ready"),
            "scale_log": str(tmp_path / "scale.log"),
        },
    }
    policy = {"cooldown_s": 5, "ready_timeout_s": 60, "ready_poll_s": 0.1}
    regions, edge, ctls, stop = start_stack(tmp_path, {"scaler": scaler, "policy": policy})
    try:
        cfgs = {n: cfg for n, cfg, _ in ctls}
        procs = {n: proc for n, _, proc in ctls}
        wait_for(lambda: all(status(c).get("regions", {}).get("primary", {}).get("state") == "up"
                             for c in cfgs.values()), 30, "both see primary up")  # fmt: skip
        leader = wait_for(
            lambda: next((n for n, c in cfgs.items() if status(c).get("leader")), None),
            10,
            "leader",
        )
        other = next(n for n in cfgs if n != leader)
        regions["primary"].healthy = False
        # the leader switches the edge, scales, then waits for readiness (the flag file is absent)
        wait_for(
            lambda: status(cfgs[leader]).get("current_step") == "ready", 20, "leader at step ready"
        )
        assert httpx.get(edge.url + "/", timeout=2).headers["X-Region"] == "secondary"
        procs[leader].kill()  # SIGKILL: no release; the etcd lease (ttl 2 s) must expire
        wait_for(lambda: status(cfgs[other]).get("leader") is True, 15, "the other to take over")
        # it resumed at the step the dead leader was in
        wait_for(lambda: status(cfgs[other])["current_step"] == "ready", 5, "resumed at ready")
        (tmp_path / "ready").touch()
        wait_for(lambda: (status(cfgs[other]).get("operation") or {}).get("status") == "completed",
                 15, "the failover to complete")  # fmt: skip
        ev = events(tmp_path)
        kinds = [e["kind"] for e in ev]
        assert kinds.count("failover.detected") == 1 and kinds.count("failover.completed") == 1
        assert kinds.count("failover.traffic_switched") == 1  # not redone by the new leader
        by = {e["kind"]: e["detail"].get("by") for e in ev}
        assert by["failover.detected"] == leader and by["failover.traffic_switched"] == leader
        assert by["failover.resumed"] == other and by["failover.completed"] == other
        done = next(e for e in ev if e["kind"] == "failover.completed")
        assert set(done["detail"]["step_s"]) == {
            "traffic_switched",
            "scaled",
            "ready",
            "lb_updated",
        }
        assert (tmp_path / "scale.log").read_text().splitlines() == ["secondary 1"]  # scaled once
    finally:
        stop()

"""The failover controllers of the local stack: their config files and supervised programs.

Two instances (one leader through an etcd lease) watch every API region's
`/health` through its regional load balancer, switch the edge HAProxy and scale
through `stack.control`. Their events go to `<state>/events/failover.jsonl`;
a run copies the lines of its own window into its run folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from stack.layout import Layout, Program
from stack.topology import Topology


def events_dir(layout: Layout) -> Path:
    return layout.root / "events"


def failover_config(t: Topology, layout: Layout, instance: int) -> str:
    g = t.global_
    f = t.failover
    active = t.active_region
    target = t.regions[active].api_replicas
    config = {
        "identity": f"ctl-{instance + 1}",
        "period_s": f.check_interval_s,
        "listen": {"host": g.address, "port": g.failover_ports[instance]},
        "events_path": str(events_dir(layout) / "failover.jsonl"),
        # Order = failover priority: the active region first, then the standbys.
        "regions": {
            r: {
                "health_url": f"http://{t.lb_host(r)}:{t.ports.lb_http}/health",
                "target_replicas": max(target, t.regions[r].api_replicas),
            }
            for r in sorted(t.api_regions, key=lambda r: t.regions[r].role != "active")
        },
        "home_region": active,
        "detection": {
            "timeout_s": f.check_timeout_s,
            "down_after": f.down_after,
            "up_after": f.up_after,
        },
        "policy": {
            "cooldown_s": f.cooldown_s,
            "failback": "manual",
            "ready_timeout_s": 60,
            "scale_down_source": False,
        },
        "traffic": {
            "kind": "haproxy",
            "socket": str(layout.haproxy_sock("edge")),
            "backend": "be_regions",
        },
        "scaler": {
            "kind": "local",
            "factory": "stack.control:open_stack",
            "options": {"state_dir": str(layout.root)},
        },
        "lock": {
            "kind": "etcd",
            "endpoints": [f"http://{t.etcd_host(r)}:{t.ports.etcd_client}" for r in t.regions],
            "prefix": f"/gameday/{t.name}/failover",
            "ttl_s": 3,
        },
        "notifiers": [{"kind": "log"}],
    }
    return yaml.safe_dump(config, sort_keys=False)


def config_path(layout: Layout, instance: int) -> Path:
    return layout.root / "failover" / f"ctl-{instance + 1}.yaml"


def controller_programs(t: Topology, layout: Layout) -> list[Program]:
    programs = []
    for i in range(t.failover.controllers):
        programs.append(
            Program(
                f"failover-{i + 1}",
                f"{sys.executable} -m failover --config {config_path(layout, i)}",
                "global",
                "failover",
                autorestart=False,
                index=i,
                environment={"GAMEDAY_PORT": str(t.global_.failover_ports[i])},
            )
        )
    return programs


def write_configs(t: Topology, layout: Layout) -> None:
    events_dir(layout).mkdir(parents=True, exist_ok=True)
    for i in range(t.failover.controllers):
        path = config_path(layout, i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(failover_config(t, layout, i))

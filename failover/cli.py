"""`gameday failover run|status|failback|validate`: the controller's command line.

- `run --config FILE`: the daemon (also `python -m failover --config FILE`);
- `status`: GET /status of a controller and print a short summary (`--json` for all);
- `failback`: ask the leader to fail back to the home region (manual failback);
  a standby answers with the leader's URL, which is followed once;
- `validate --config FILE`: check the config and print every problem.
The controller URL comes from `--url` or from the config's `listen`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

import httpx

from bedrock import options
from bedrock.errors import EXIT_OK, InputError, SetupError


def _config(path: str) -> Any:
    from failover.config import load_config

    return load_config(path)


def _url(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url).rstrip("/")
    if not args.config:
        raise InputError("give --url or --config")
    cfg = _config(args.config)
    if cfg.listen is None or cfg.listen.port == 0:
        raise InputError(
            f"{args.config}: listen.port: needed to find the controller (or give --url)"
        )
    return f"http://{cfg.listen.host}:{cfg.listen.port}"


def cmd_run(args: argparse.Namespace) -> int:
    from failover.daemon import run

    configure_logging(args.log_level)
    return run(_config(args.config))


def configure_logging(level: str) -> None:
    """One line per record; httpx's request lines are silenced: they carry URLs
    (the Slack webhook URL is a secret) and would log every probe."""
    logging.basicConfig(
        level=getattr(logging, level), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_validate(args: argparse.Namespace) -> int:
    cfg = _config(args.config)
    print(
        f"{args.config}: ok ({len(cfg.regions)} regions, traffic {cfg.traffic.kind}, lock {cfg.lock.kind})"
    )
    return EXIT_OK


def _request(method: str, url: str) -> httpx.Response:
    try:
        return httpx.request(method, url, timeout=5.0)
    except httpx.HTTPError as exc:
        raise SetupError(f"controller at {url} did not answer: {type(exc).__name__}") from exc


def cmd_status(args: argparse.Namespace) -> int:
    resp = _request("GET", _url(args) + "/status")
    status = resp.json()
    if args.json:
        print(json.dumps(status, indent=1))
        return EXIT_OK
    role = "leader" if status["leader"] else f"standby (leader {status['leader_identity']})"
    print(
        f"{status['identity']}: {role}; active region {status['active_region']} (home {status['home_region']})"
    )
    for region, r in status["regions"].items():
        last = r["history"][-1]["reason"] if r["history"] else "-"
        print(
            f"  {region}: {r['state']} (last probe {last}, ok x{r['consecutive_ok']}, fail x{r['consecutive_fail']})"
        )
    op = status.get("operation")
    if op:
        print(
            f"  last operation: {op['kind']} {op['source']}->{op['target']} {op['status']}, steps {op['done']}"
        )
    print(f"  last decision: {status['last_decision']}")
    return EXIT_OK


def cmd_failback(args: argparse.Namespace) -> int:
    url = _url(args)
    resp = _request("POST", url + "/failback")
    body = resp.json()
    if resp.status_code == 409 and body.get("leader_url") and body["leader_url"] != url:
        resp = _request("POST", body["leader_url"] + "/failback")
        body = resp.json()
    if resp.status_code == 202:
        print(body["accepted"])
        return EXIT_OK
    raise InputError(f"failback refused: {body.get('error', body)}")


def register(subparsers: Any) -> None:
    """`gameday failover ACTION`."""
    p = subparsers.add_parser(
        "failover", help="the failover controller (daemon, status, manual failback)"
    )
    _add_actions(p)


def _add_actions(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="failover_command", metavar="ACTION", required=True)

    r = sub.add_parser("run", help="run the controller daemon")
    r.add_argument("--config", required=True, help="controller YAML")
    options.add_log_level(r)
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="validate a controller config and list every problem")
    v.add_argument("--config", required=True)
    v.set_defaults(func=cmd_validate)

    for name, func, helptext in (
        ("status", cmd_status, "show a controller's view: leader, active region, health"),
        ("failback", cmd_failback, "fail back to the home region (manual failback)"),
    ):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("--config", help="controller YAML (its listen address is used)")
        s.add_argument(
            "--url", type=options.http_url, help="controller URL, e.g. http://127.0.9.1:9701"
        )
        if name == "status":
            s.add_argument("--json", action="store_true", help="print the whole /status document")
        s.set_defaults(func=func)


def main(argv: list[str] | None = None) -> int:
    """`python -m failover ...` (the Kubernetes Deployment's command): its own parser, not the
    gameday CLI. `run` is implied when the first argument is an option."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["run", *argv]
    parser = argparse.ArgumentParser(
        prog="python -m failover",
        description="The failover controller (same as `gameday failover`).",
        epilog="Exit codes: 0 ok, 2 bad input, 3 setup failure.",
    )
    _add_actions(parser)
    return options.run_parsed("failover", parser.parse_args(argv))

"""Network faults on loopback with nftables (tc netem does not exist on this kernel).

One table, `inet gameday`, with an output-hook chain; each fault is one rule
tagged with a comment, so `heal()` removes exactly ours (the whole table).
Only loopback destinations are accepted: a fault never touches real traffic.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess

from bedrock.errors import ActionError

TABLE = "gameday"
_RULE = re.compile(r"ip daddr (?P<addr>[0-9.]+) .*# handle (?P<handle>\d+)")


def _nft(*args: str) -> str:
    try:
        out = subprocess.run(["nft", *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ActionError(f"nft {' '.join(args)}: {exc}") from None
    if out.returncode != 0:
        raise ActionError(f"nft {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def _ensure_table() -> None:
    _nft("add", "table", "inet", TABLE)
    _nft(
        "add",
        "chain",
        "inet",
        TABLE,
        "out",
        "{ type filter hook output priority 0; policy accept; }",
    )


def drop_to(address: str, ports: list[int], loss_pct: int = 100, tag: str = "fault") -> str:
    """Drop `loss_pct` % of the TCP packets sent to address (only to `ports` if given).

    Every port is the default for a partition: connections the isolated node opened
    itself get their answers on ephemeral ports, which a port list would let through.
    """
    ip = ipaddress.ip_address(address)
    if not ip.is_loopback:
        raise ActionError(
            f"{address} is not a loopback address: network faults stay on 127.0.0.0/8"
        )
    if not all(0 < p < 65536 for p in ports):
        raise ActionError(f"ports {ports}: give 1..65535 (or none for every port)")
    if not 0 < loss_pct <= 100:
        raise ActionError(f"loss {loss_pct} %: give 1..100")
    _ensure_table()
    rule = ["ip", "daddr", str(ip), "meta", "l4proto", "tcp"]
    if ports:
        rule += ["tcp", "dport", "{ " + ", ".join(str(p) for p in ports) + " }"]
    if loss_pct < 100:
        rule += ["numgen", "random", "mod", "100", "<", str(loss_pct)]
    rule += ["drop", "comment", f'"gameday:{tag}"']
    _nft("add", "rule", "inet", TABLE, "out", *rule)
    return " ".join(rule)


def active_rules() -> list[str]:
    try:
        text = _nft("list", "table", "inet", TABLE)
    except ActionError:
        return []
    return [line.strip() for line in text.splitlines() if "gameday:" in line]


def heal() -> bool:
    """Remove every fault of ours; True when there was something to remove."""
    if not active_rules():
        try:
            _nft("delete", "table", "inet", TABLE)
        except ActionError:
            return False
        return False
    _nft("delete", "table", "inet", TABLE)
    return True


def rules_by_address() -> list[tuple[str, int, str]]:
    """Our rules as (destination address, nftables handle, rule text)."""
    try:
        text = _nft("-a", "list", "table", "inet", TABLE)
    except ActionError:
        return []
    out = []
    for line in text.splitlines():
        match = _RULE.search(line)
        if match and "gameday:" in line:
            out.append((match["addr"], int(match["handle"]), line.strip()))
    return out


def heal_addresses(addresses: set[str]) -> list[str]:
    """Delete only our rules whose destination is in `addresses` (another stack's stay);
    delete the table once it holds no rule. Returns the rules removed."""
    removed = []
    for addr, handle, text in rules_by_address():
        if addr in addresses:
            _nft("delete", "rule", "inet", TABLE, "out", "handle", str(handle))
            removed.append(text.split(" # handle")[0])
    if removed and not rules_by_address():
        try:
            _nft("delete", "table", "inet", TABLE)
        except ActionError:
            pass  # another process removed it first
    return removed

"""Safety rails for load runs: which hosts may be loaded, and hard bounds on rate and duration.

A load generator pointed at the wrong URL is a denial of service. The target must be a
loopback address (127.0.0.0/8, ::1, localhost) unless the caller names the host explicitly
(`allow_hosts`, the CLI's `--allow-host`). Every run is bounded: durations come from finite
stages, and the hard caps below refuse anything longer or faster.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from bedrock.errors import InputError

MAX_DURATION_S = 4 * 3600.0  # the longest run we ever start (full endurance is 1 h)
MAX_RATE_RPS = 50_000.0  # open-model ceiling (the seed's target is 5,000 req/s)
MAX_USERS = 5_000


def check_host(url: str, allow_hosts: Iterable[str] = ()) -> str:
    """Return the URL's host when it may be loaded; InputError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"host {url!r}: expected an http(s) URL such as http://127.0.9.1:8080")
    host = parts.hostname
    if host in set(allow_hosts):
        return host
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise InputError(
        f"host {url!r}: {host} is not loopback; pass --allow-host {host} to load it on purpose"
    )


def check_bounds(
    duration_s: float, rate_rps: float | None = None, users: int | None = None
) -> None:
    """Refuse a run longer than MAX_DURATION_S, faster than MAX_RATE_RPS or wider than MAX_USERS."""
    if not 0 < duration_s <= MAX_DURATION_S:
        raise InputError(f"duration {duration_s:.0f} s: must be in (0, {MAX_DURATION_S:.0f}] s")
    if rate_rps is not None and not 0 < rate_rps <= MAX_RATE_RPS:
        raise InputError(f"rate {rate_rps} req/s: must be in (0, {MAX_RATE_RPS:.0f}]")
    if users is not None and not 0 < users <= MAX_USERS:
        raise InputError(f"users {users}: must be in (0, {MAX_USERS}]")

"""Switch the local edge HAProxy between regions through its runtime API.

The edge has a backend (`be_regions`) with one server per region, named after
the region. The active region's server is `state ready`, every other one
`state maint`. The switch readies the target first, then puts the others in
maintenance (optionally cutting their open sessions), so there is never a moment
with no server. Talks to the admin socket (`stats socket ... level admin`), one
command per connection. HAProxy answers a successful `set server` with an empty
line and an error with a sentence ("No such server."), which we raise.
Limit: does not touch health checks; a ready server that fails its check is
still down for HAProxy (that is the point of the check).
"""

from __future__ import annotations

import socket
from pathlib import Path

from failover.backends.base import TrafficSwitch
from failover.errors import TrafficSwitchError

ADMIN_MAINT = 0x23  # SRV_ADMF_MAINT mask (forced, inherited, resolution) of srv_admin_state


class HAProxyRuntime:
    """One-shot commands on HAProxy's admin socket."""

    def __init__(self, socket_path: Path, timeout_s: float = 2.0) -> None:
        self.socket_path = socket_path
        self.timeout_s = timeout_s

    def command(self, cmd: str) -> str:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout_s)
                sock.connect(str(self.socket_path))
                sock.sendall(cmd.encode() + b"\n")
                chunks = []
                while True:
                    data = sock.recv(65536)
                    if not data:
                        break
                    chunks.append(data)
        except OSError as exc:
            raise TrafficSwitchError(f"haproxy admin socket {self.socket_path}: {exc}") from exc
        return b"".join(chunks).decode(errors="replace")

    def servers_state(self, backend: str) -> dict[str, int]:
        """Server name -> srv_admin_state for one backend."""
        out = self.command(f"show servers state {backend}")
        lines = [ln for ln in out.splitlines() if ln.strip()]
        if not lines or not lines[0].strip().isdigit():
            raise TrafficSwitchError(
                f"haproxy: unexpected answer to show servers state: {out.strip()!r}"
            )
        header = next((ln for ln in lines if ln.startswith("#")), None)
        if header is None:
            raise TrafficSwitchError(f"haproxy: no header in show servers state: {out.strip()!r}")
        cols = header.lstrip("# ").split()
        name_i, admin_i = cols.index("srv_name"), cols.index("srv_admin_state")
        states = {}
        for ln in lines:
            if ln.startswith("#") or ln.strip().isdigit():
                continue
            f = ln.split()
            states[f[name_i]] = int(f[admin_i])
        return states


class HAProxyRuntimeSwitch(TrafficSwitch):
    name = "haproxy"

    def __init__(
        self,
        socket_path: Path,
        backend: str = "be_regions",
        shutdown_sessions: bool = True,
        timeout_s: float = 2.0,
    ) -> None:
        self.runtime = HAProxyRuntime(socket_path, timeout_s)
        self.backend = backend
        self.shutdown_sessions = shutdown_sessions

    def _set(self, cmd: str) -> None:
        answer = self.runtime.command(cmd).strip()
        if answer:
            raise TrafficSwitchError(f"haproxy refused {cmd!r}: {answer}")

    def switch_to(self, region: str) -> None:
        servers = self.runtime.servers_state(self.backend)
        if region not in servers:
            raise TrafficSwitchError(
                f"haproxy backend {self.backend} has no server {region!r} (has {sorted(servers)})",
                retryable=False,
            )
        self._set(f"set server {self.backend}/{region} state ready")
        for other in servers:
            if other != region:
                self._set(f"set server {self.backend}/{other} state maint")
                if self.shutdown_sessions:
                    self._set(f"shutdown sessions server {self.backend}/{other}")

    def current(self) -> str | None:
        servers = self.runtime.servers_state(self.backend)
        ready = [name for name, admin in servers.items() if not admin & ADMIN_MAINT]
        return ready[0] if len(ready) == 1 else None

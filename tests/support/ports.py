"""The one port allocator of the tests: a free TCP port on a loopback address."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel just had free on `host` (bind to 0, read it, release it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])

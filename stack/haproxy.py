"""HAProxy's runtime API over its admin unix socket (one command per connection)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from bedrock.errors import ActionError


def command(sock: Path, line: str, timeout_s: float = 2.0) -> str:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout_s)
            conn.connect(str(sock))
            conn.sendall(line.encode() + b"\n")
            chunks = []
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                chunks.append(data)
    except OSError as exc:
        raise ActionError(f"haproxy {sock}: {line!r}: {exc}", retryable=True) from None
    return b"".join(chunks).decode()


@dataclass(frozen=True)
class ServerState:
    backend: str
    name: str
    address: str
    operational: str  # UP / DOWN / MAINT / ...
    admin_maint: bool


def servers(sock: Path, backend: str) -> list[ServerState]:
    """Rows of `show stat` for one backend's servers."""
    text = command(sock, "show stat")
    lines = text.strip().splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ActionError(f"haproxy {sock}: unexpected 'show stat' answer: {text[:200]!r}")
    header = lines[0][2:].split(",")
    out = []
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") != backend or row.get("svname") in ("FRONTEND", "BACKEND"):
            continue
        status = row.get("status", "")
        out.append(
            ServerState(
                backend=backend,
                name=row["svname"],
                address=row.get("addr", ""),
                operational=status.split(" ")[0],
                admin_maint="MAINT" in status,
            )
        )
    return out


def set_state(sock: Path, backend: str, server: str, state: str) -> None:
    answer = command(sock, f"set server {backend}/{server} state {state}").strip()
    if answer:
        raise ActionError(f"haproxy {sock}: set server {backend}/{server} state {state}: {answer}")

"""`python -m stack.api ...`: run one replica under uvicorn (uvloop + httptools).

SIGTERM/SIGINT: uvicorn stops accepting, lets in-flight requests finish (up to
`--graceful-shutdown-s`), then the lifespan closes the database and Redis clients.
After that clean shutdown uvicorn re-raises the signal, so the process ends "killed
by SIGTERM" as Unix tools (supervisord) expect. Exit codes otherwise: 0 clean stop,
2 bad arguments, 3 could not start (e.g. port taken).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import uvicorn

from bedrock.errors import EXIT_BAD_INPUT, EXIT_INCONCLUSIVE, InputError
from stack.api.app import build_app
from stack.api.settings import parse_settings


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = parse_settings(argv)
    except InputError as exc:
        print(f"stack.api: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    logging.basicConfig(
        level=settings.log_level.upper(),
        format=f"%(asctime)s %(levelname)s {settings.region}/{settings.replica} %(name)s: %(message)s",
    )
    config = uvicorn.Config(
        build_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        log_config=None,  # keep our logging format
        server_header=False,
        proxy_headers=False,  # no X-Forwarded-* rewriting: saves a middleware per request
        # longer than any proxy's idle keep-alive, so the proxy closes first
        timeout_keep_alive=75,
        timeout_graceful_shutdown=max(1, round(settings.graceful_shutdown_s)),
        backlog=4096,
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits 1 when it cannot bind
        return EXIT_INCONCLUSIVE if exc.code else 0
    return 0 if server.started else EXIT_INCONCLUSIVE


if __name__ == "__main__":
    sys.exit(main())

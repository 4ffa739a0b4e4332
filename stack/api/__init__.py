"""The reference API: the local stand-in for the seed's `twinme/api`.

One process is one replica: Starlette on uvicorn (uvloop + httptools), PostgreSQL
through asyncpg, Redis (standalone or Redis Cluster) through redis-py asyncio,
Prometheus metrics through prometheus-client. The routes and their JSON are the
contract in docs/reference-api.md; run it with `python -m stack.api --help`.

Limits: one event loop per process (scale by running more replicas); no auth; the
schema is two tables (items, ledger) created at start-up when the database is
writable.
"""

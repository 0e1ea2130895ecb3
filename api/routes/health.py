"""GET /health (the process answers), GET /ready (its dependencies answer), GET /metrics (Prometheus)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymilvus import MilvusException
from redis.exceptions import RedisError

from api.keys import INDEX, REDIS


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Dependencies reachable: Redis answers and the Milvus collections exist."""
    checks: dict[str, str] = {}
    try:
        await request.app[REDIS].ping()
        checks["redis"] = "ok"
    except RedisError as exc:
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    index = request.app[INDEX]
    try:
        aliases = await asyncio.to_thread(index.client.list_aliases)
        checks["milvus"] = "ok" if index.tickets_alias in aliases.get("aliases", []) else "collections missing"
    except MilvusException as exc:
        checks["milvus"] = f"unreachable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return web.json_response({"status": "ready" if ok else "not_ready", "checks": checks}, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response

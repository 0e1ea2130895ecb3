"""Cached retrieval results in Redis, invalidated whenever the tenant's index changes.

The API caches what is expensive and stable (the query vector and the Milvus candidates), never what must be
fresh (the feedback rerank and the query_id, done per request). Each tenant has an index generation that the
worker increments after every write to that tenant's rows; cache keys carry it, so a change to any ticket or
article makes every older entry of that tenant unreachable at once (they then expire by TTL). Coarse, but a
similar-tickets list can change when any ticket changes, so anything finer would serve stale lists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis


def _generation_key(namespace: str, tenant: str) -> str:
    return f"{namespace}:index-generation:{tenant}"


async def index_changed(redis: Redis, namespace: str, tenants: Iterable[str]) -> None:
    """Called by the worker after it wrote the tenants' rows: their cached results are stale now."""
    async with redis.pipeline(transaction=False) as pipe:
        for tenant in set(tenants):
            pipe.incr(_generation_key(namespace, tenant))
        await pipe.execute()


class ResultCache:
    def __init__(self, redis: Redis, namespace: str, ttl_seconds: int) -> None:
        """`redis` must be created with decode_responses=True."""
        self._redis = redis
        self._ns = namespace
        self._ttl = ttl_seconds

    async def _key(self, tenant: str, kind: str, request: dict[str, Any]) -> str:
        generation = str(await self._redis.get(_generation_key(self._ns, tenant)) or "0")
        digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:32]
        return f"{self._ns}:results:{tenant}:{generation}:{kind}:{digest}"

    async def get(self, tenant: str, kind: str, request: dict[str, Any]) -> tuple[str, Any | None]:
        """(the entry's key, its value or None); the key is what `put` stores under."""
        if self._ttl <= 0:
            return "", None  # caching is off: no Redis round trip at all
        key = await self._key(tenant, kind, request)
        raw = await self._redis.get(key)
        return key, json.loads(raw) if raw else None

    async def put(self, key: str, value: Any) -> None:
        if self._ttl > 0:
            await self._redis.set(key, json.dumps(value), ex=self._ttl)

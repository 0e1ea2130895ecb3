"""Cached retrieval results in Redis, and their invalidation when the index changes.

Two caches, both holding what is expensive and stable (query vectors, Milvus candidates), never what must be
fresh (the feedback rerank and the query_id, done per request):

- Query results (/query): one entry per question (and its types, limit, scope, settings).
- Neighbourhoods (/init, copilot.neighbourhood): one entry per ticket, also dropped when that ticket changes.

Both are dropped when any ticket or article listed in them changes (a reverse index: `listed-in` sets, which
hold the keys of the entries listing an item). A ticket that changes so that it now belongs in an entry,
without having been listed there, shows up when that entry expires: the TTL bounds that staleness. An entry
computed while the tenant's index changed underneath is not stored: the worker increments the tenant's
generation before dropping entries, and storing compares it, in one Redis script.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from redis.asyncio import Redis

from copilot.domain import ticket_key
from copilot.fingerprint import json_digest
from copilot.index import CopilotIndex
from copilot.neighbourhood import FORMAT, Neighbourhood, TicketInHand, search_neighbourhood

# KEYS: generation, entry. ARGV: generation expected, value, ttl, listed-in key prefix, listed pks...
# A listed-in set lives as long as the longest-lived entry in it (the two caches have different TTLs).
_STORE_IF_UNCHANGED = """
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ttl)
for i = 5, #ARGV do
  local listed = ARGV[4] .. ARGV[i]
  redis.call('SADD', listed, KEYS[2])
  if redis.call('TTL', listed) < ttl then redis.call('EXPIRE', listed, ttl) end
end
return 1
"""


def _generation_key(namespace: str, tenant: str) -> str:
    return f"{namespace}:index-generation:{tenant}"


def _results_prefix(namespace: str, tenant: str) -> str:
    return f"{namespace}:results:{tenant}:"


def _entry_key(namespace: str, pk: str) -> str:
    return f"{namespace}:neighbourhood:{pk}"


def _pack(data: dict[str, Any]) -> str:
    """JSON, deflated, in base64 (the client decodes replies as text). A neighbourhood is mostly its rows'
    summaries and field names repeated for each row: deflate shrinks it several times (BENCHMARKS.md), and
    Redis holds one per open ticket."""
    return base64.b64encode(zlib.compress(json.dumps(data).encode(), 1)).decode()


def unpack(packed: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(zlib.decompress(base64.b64decode(packed)))
    return data


def neighbourhood_key(namespace: str, tenant: str, ticket_id: int) -> str:
    """The Redis key of a ticket's cached neighbourhood."""
    return _entry_key(namespace, ticket_key(tenant, ticket_id))


def _listed_prefix(namespace: str) -> str:
    return f"{namespace}:listed-in:"


async def index_changed(redis: Redis, namespace: str, changed: Mapping[str, Iterable[str]]) -> None:
    """Called by the worker after it wrote or deleted rows (tenant -> primary keys): results that depend on
    them are stale now. The generations go first, so an entry being computed meanwhile is not stored."""
    changed = {tenant: set(pks) for tenant, pks in changed.items()}
    pks = sorted(pk for tenant_pks in changed.values() for pk in tenant_pks)
    prefix = _listed_prefix(namespace)
    async with redis.pipeline(transaction=False) as pipe:  # Redis runs a pipeline's commands in order
        for tenant in changed:
            pipe.incr(_generation_key(namespace, tenant))
        for pk in pks:
            pipe.smembers(prefix + pk)
        listing = (await pipe.execute())[len(changed):]
    if not pks:
        return
    stale = {_entry_key(namespace, pk) for pk in pks}.union(*listing)  # their own neighbourhoods too
    async with redis.pipeline(transaction=False) as pipe:
        for key in stale:
            pipe.delete(key)
        for pk in pks:
            pipe.delete(prefix + pk)
        await pipe.execute()


async def index_rebuilt(redis: Redis, namespace: str, tenants: Iterable[str]) -> None:
    """Every cached result of these tenants is stale (a reindex switched their rows to a new collection)."""
    tenants = set(tenants)
    async with redis.pipeline(transaction=False) as pipe:
        for tenant in tenants:
            pipe.incr(_generation_key(namespace, tenant))
        await pipe.execute()
    for tenant in tenants:
        for pattern in (_entry_key(namespace, f"{tenant}/*"), f"{_listed_prefix(namespace)}{tenant}/*",
                        f"{_results_prefix(namespace, tenant)}*"):
            batch = [key async for key in redis.scan_iter(match=pattern, count=1000)]
            for start in range(0, len(batch), 1000):
                await redis.delete(*batch[start:start + 1000])


class _ListingCache:
    """Entries stored only if the tenant's index has not changed since `generation` was read, and dropped by
    `index_changed` when anything they list changes, or after `ttl_seconds`."""

    def __init__(self, redis: Redis, namespace: str, ttl_seconds: int) -> None:
        """`redis` must be created with decode_responses=True."""
        self._redis = redis
        self._ns = namespace
        self._ttl = ttl_seconds
        self._store_if_unchanged = redis.register_script(_STORE_IF_UNCHANGED)

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    async def generation(self, tenant: str) -> str:
        """Read before searching; storing succeeds only if it is still the same."""
        return str(await self._redis.get(_generation_key(self._ns, tenant)) or "0")

    async def _store(self, tenant: str, key: str, value: str, generation: str, listed: Iterable[str]) -> bool:
        """False when the tenant's index changed since `generation` was read (the value may be stale) or
        caching is off; `listed` are the primary keys of the items the value lists."""
        if not self.enabled:
            return False
        stored = await self._store_if_unchanged(
            keys=[_generation_key(self._ns, tenant), key],
            args=[generation, value, self._ttl, _listed_prefix(self._ns), *sorted(set(listed))])
        return bool(stored)


class ResultCache(_ListingCache):
    """Query results."""

    def key(self, tenant: str, kind: str, request: dict[str, Any]) -> str:
        return f"{_results_prefix(self._ns, tenant)}{kind}:{json_digest(request)[:32]}"

    async def get(self, key: str) -> Any | None:
        if not self.enabled:
            return None  # no Redis round trip at all
        raw = await self._redis.get(key)
        return json.loads(raw) if raw else None

    async def put(self, tenant: str, key: str, value: Any, generation: str, listed: Iterable[str]) -> bool:
        return await self._store(tenant, key, json.dumps(value), generation, listed)


class NeighbourhoodCache(_ListingCache):
    """Tickets' neighbourhoods, also dropped when their own ticket changes."""

    async def get(self, tenant: str, ticket_id: int) -> Neighbourhood | None:
        if not self.enabled:
            return None
        raw = str(await self._redis.get(neighbourhood_key(self._ns, tenant, ticket_id)) or "")
        data = unpack(raw) if raw and not raw.startswith("{") else {}  # "{": older code's plain JSON
        return Neighbourhood.load(data) if data.get("format") == FORMAT else None  # older code's: searched again

    async def put(self, tenant: str, neighbourhood: Neighbourhood, generation: str) -> bool:
        return await self._store(tenant, neighbourhood_key(self._ns, tenant, neighbourhood.ticket_id),
                                 _pack(neighbourhood.dump()), generation, neighbourhood.listed())

    async def search_and_store(self, index: CopilotIndex, tenant: str, ticket_id: int, limit: int,
                               query_chars: int) -> tuple[Neighbourhood | None, bool]:
        """(the indexed ticket's neighbourhood searched afresh, whether it was stored); (None, False) when the
        ticket is not indexed. What /init does on a miss and the worker's warmer ahead of it."""
        generation = await self.generation(tenant)
        row = await index.get_ticket(tenant, ticket_id, with_vector=True)
        if row is None:
            return None, False
        hood = await search_neighbourhood(index, tenant, TicketInHand.from_row(row), limit, query_chars)
        return hood, await self.put(tenant, hood, generation)

"""Per-tenant pipeline progress in Redis: which content each stage has reached, so an operator (or a test)
can tell when the pipeline has caught up. Hashes keyed by ticket id make the counts redelivery-proof."""

from __future__ import annotations

from redis.asyncio import Redis


class PipelineProgress:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._ns = namespace

    def _key(self, tenant: str, stage: str) -> str:
        return f"{self._ns}:progress:{tenant}:{stage}"

    async def reached(self, stage: str, entries: dict[tuple[str, int], str]) -> None:
        """Record that `stage` has processed these (tenant, ticket id) -> content hash entries."""
        if not entries:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for (tenant, ticket_id), content in entries.items():
                pipe.hset(self._key(tenant, stage), str(ticket_id), content)
            await pipe.execute()

    async def forget(self, stage: str, tenant: str, ticket_ids: list[int]) -> None:
        if ticket_ids:
            await self._redis.hdel(self._key(tenant, stage), *map(str, ticket_ids))

    async def count(self, stage: str, tenant: str) -> int:
        return int(await self._redis.hlen(self._key(tenant, stage)))

"""Feedback state in Redis, every key under one tenant: the worker's mirror of the aggregate table (what the
API reranks with), and the results the API showed (what a vote may refer to, and the context it was given in).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from redis.asyncio import Redis

from copilot.feedback import ItemFeedback, decode

Item = tuple[str, int]  # (item type, item id)


@dataclass(frozen=True)
class ShownResults:
    """What one /init or /query answer showed: the only items its query_id can be voted on."""

    context: bytes  # quantized embedding of the query or the open ticket
    items: frozenset[Item]
    context_ticket_id: int | None = None


class FeedbackStore:
    def __init__(self, redis: Redis, namespace: str, query_ttl_seconds: int = 7 * 86400) -> None:
        self._redis = redis
        self._ns = namespace
        self._ttl = query_ttl_seconds

    def _aggregates(self, tenant: str) -> str:
        return f"{self._ns}:feedback:{tenant}"

    def _shown(self, tenant: str, query_id: str) -> str:
        return f"{self._ns}:shown:{tenant}:{query_id}"

    async def mirror(self, tenant: str, item: Item, encoded: str) -> None:
        await self._redis.hset(self._aggregates(tenant), _field(item), encoded)

    async def aggregates(self, tenant: str, items: list[Item]) -> dict[Item, ItemFeedback]:
        if not items:
            return {}
        raw = await self._redis.hmget(self._aggregates(tenant), [_field(i) for i in items])
        return {item: decode(value) for item, value in zip(items, raw, strict=True) if value}

    async def remember(self, tenant: str, query_id: str, shown: ShownResults) -> None:
        value = json.dumps({"context": base64.b64encode(shown.context).decode(),
                            "items": sorted(_field(i) for i in shown.items),
                            "context_ticket_id": shown.context_ticket_id})
        await self._redis.set(self._shown(tenant, query_id), value, ex=self._ttl)

    async def shown(self, tenant: str, query_id: str) -> ShownResults | None:
        value = await self._redis.get(self._shown(tenant, query_id))
        if value is None:
            return None
        raw = json.loads(value)
        return ShownResults(base64.b64decode(raw["context"]), frozenset(_item(f) for f in raw["items"]),
                            raw["context_ticket_id"])


def _field(item: Item) -> str:
    return f"{item[0]}/{item[1]}"


def _item(field: str) -> Item:
    kind, _, number = field.partition("/")
    return kind, int(number)

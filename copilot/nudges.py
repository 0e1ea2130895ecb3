""""Poll this tenant now": a Redis pub/sub channel from the webhook endpoint to the pollers.

A nudge is only a hint to poll early; polling stays the source of truth, so a lost nudge costs at most one
poll interval of freshness, never data.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from redis.asyncio import Redis


def channel(namespace: str) -> str:
    return f"{namespace}:sync:nudge"


async def nudge(redis: Redis, namespace: str, tenant_id: str) -> None:
    await redis.publish(channel(namespace), tenant_id)


class NudgeListener:
    """Turns messages on the channel into per-tenant events the polling loops wait on."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._channel = channel(namespace)
        self.events: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def run(self, stop: asyncio.Event) -> None:
        async with self._redis.pubsub() as pubsub:
            await pubsub.subscribe(self._channel)
            while not stop.is_set():
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message and message["type"] == "message":
                    data = message["data"]
                    self.events[data.decode() if isinstance(data, bytes) else str(data)].set()

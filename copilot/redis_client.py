"""The project's asyncio Redis clients: a bounded pool whose callers wait for a free connection.

redis-py's default asyncio pool raises `MaxConnectionsError` at once when its 100 connections are busy: a burst
of several hundred requests in flight made /init answer 500 (`bench.api_load`, 20/s of tickets nobody had
opened). Waiting for a connection turns that burst into queueing, which the caller's own timeout bounds."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from copilot.settings import RedisSettings


def connect(settings: RedisSettings) -> Redis:
    pool = BlockingConnectionPool.from_url(settings.url, max_connections=settings.max_connections,
                                           timeout=settings.pool_timeout_seconds, decode_responses=True)
    return Redis.from_pool(pool)

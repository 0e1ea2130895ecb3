"""More callers than connections wait for one instead of failing."""

from __future__ import annotations

import asyncio
import time
import uuid

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from copilot.redis_client import connect
from copilot.settings import RedisSettings

HOLD = 0.2  # seconds each caller keeps its connection: a blocking pop on an empty list


async def hold_connections(redis: Redis, callers: int) -> list[object]:
    key = f"empty-{uuid.uuid4().hex}"
    return await asyncio.gather(*(redis.blpop([key], timeout=HOLD) for _ in range(callers)), return_exceptions=True)


async def test_callers_beyond_the_pool_wait_for_a_connection(services):
    settings = RedisSettings(COPILOT_REDIS_URL=services["COPILOT_REDIS_URL"], COPILOT_REDIS_MAX_CONNECTIONS=3)
    redis = connect(settings)
    started = time.perf_counter()
    try:
        answers = await hold_connections(redis, 9)
    finally:
        await redis.aclose()
    assert answers == [None] * 9  # each timed out on the empty list; none failed for want of a connection
    assert time.perf_counter() - started >= 3 * HOLD * 0.9  # three rounds of three: they did wait


async def test_a_caller_waits_no_longer_than_the_pool_timeout(services):
    settings = RedisSettings(COPILOT_REDIS_URL=services["COPILOT_REDIS_URL"], COPILOT_REDIS_MAX_CONNECTIONS=1,
                             COPILOT_REDIS_POOL_TIMEOUT=HOLD / 4)
    redis = connect(settings)
    try:
        answers = await hold_connections(redis, 2)
    finally:
        await redis.aclose()
    assert answers[0] is None
    assert isinstance(answers[1], RedisConnectionError)  # gave up waiting while the first held the connection

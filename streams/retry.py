"""Retrying writes to Milvus and Redis: a dependency outage stalls the partition (back-pressure) for up to
`COPILOT_RETRY_GIVE_UP_SECONDS`, it does not drop data; what still fails then goes to the dead letters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pymilvus import MilvusException
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

TRANSIENT = (MilvusException, RedisConnectionError, RedisTimeoutError, ConnectionError, OSError, TimeoutError)


async def with_backoff(operation: Callable[[], Awaitable[object]], give_up_after: float) -> None:
    """Retry transient failures with capped exponential backoff; re-raise once `give_up_after` seconds pass."""
    async for attempt in AsyncRetrying(retry=retry_if_exception_type(TRANSIENT),
                                       wait=wait_exponential_jitter(initial=0.5, max=30.0),
                                       stop=stop_after_delay(give_up_after), reraise=True):
        with attempt:
            await operation()

"""Retrying writes to Milvus: a dependency outage stalls the partition (back-pressure), it does not drop data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pymilvus import MilvusException
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

TRANSIENT = (MilvusException, ConnectionError, OSError, TimeoutError)


async def with_backoff(operation: Callable[[], Awaitable[object]], give_up_after: float = 300.0) -> None:
    """Retry transient failures with capped exponential backoff; re-raise once `give_up_after` seconds pass."""
    async for attempt in AsyncRetrying(retry=retry_if_exception_type(TRANSIENT),
                                       wait=wait_exponential_jitter(initial=0.5, max=30.0),
                                       stop=stop_after_delay(give_up_after), reraise=True):
        with attempt:
            await operation()

"""Fixtures shared by the integration tests."""

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis


@pytest.fixture
async def redis(services: dict[str, str]) -> AsyncIterator[Redis]:
    client = Redis.from_url(services["COPILOT_REDIS_URL"], decode_responses=True)
    yield client
    await client.aclose()

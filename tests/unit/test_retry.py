"""What the stages retry before they dead-letter a write (streams.retry): an outage of Milvus or Redis is
waited out with backoff; a failure that retrying cannot mend is raised at once."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streams.retry import with_backoff


class Flaky:
    """A write that raises `error` on its first `failures` calls."""

    def __init__(self, error: Exception, failures: int) -> None:
        self.error, self.failures, self.calls = error, failures, 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error


async def test_a_redis_outage_is_retried_until_the_write_goes_through():
    write = Flaky(RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."), 2)
    await with_backoff(write, give_up_after=30)
    assert write.calls == 3


async def test_a_failure_retrying_cannot_mend_is_raised_at_once():
    write = Flaky(ValueError("not a valid row"), 5)
    with pytest.raises(ValueError, match="not a valid row"):
        await with_backoff(write, give_up_after=30)
    assert write.calls == 1


async def test_an_outage_that_outlasts_the_limit_is_raised():
    write = Flaky(RedisTimeoutError("Timeout reading from socket"), 1000)
    with pytest.raises(RedisTimeoutError):
        await with_backoff(write, give_up_after=0.2)
    assert write.calls >= 1

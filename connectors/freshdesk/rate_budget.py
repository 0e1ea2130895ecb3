"""The per-account Freshdesk call budget, shared through Redis by every poller process of a tenant.

Freshdesk's limit is per account and per minute, and failed calls count too. Each call takes a credit from
the current window's counter in Redis; past `limit x (1 - reserve)` the caller waits for the next window, so
the customer's own integrations keep their share.

Calls are also paced (a generic cell rate algorithm: each call reserves the next slot, and a burst may run
ahead of its slots), so that no minute, window-aligned or not, holds more than the share. Without it, a poller
over its budget spent each window in seconds and then stalled, with a change waiting, for the rest of the
minute; paced, it slows down evenly. A quiet account still gets its burst at once. The price is the burst's
share of the sustained rate: a backfill runs at (share - burst) calls a minute.

The limit is learned from X-RateLimit-Total. The window's phase is learned too: when X-RateLimit-Remaining is
back near the full limit, a new window started then. A low Remaining (other clients spending) sends us to the
next window. A 429 is still honoured by the client's Retry-After handling: this budget is there so that it
rarely happens.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

DEFAULT_LIMIT = 50  # a trial account's limit, until the first response tells the real one
FRESH_WINDOW_SLACK = 5  # calls other clients may make between a window's reset and our first response
BURST_SHARE = 0.05  # of a minute's share that may go at once after a quiet spell
MIN_BURST = 3  # calls: one poll's listings (updated, deleted, spam) go out together

# Reserves the next slot: KEYS[1] holds when the next call is due; ARGV: now, seconds between calls, seconds a
# call may start ahead of its slot. Returns when this call may start.
_TAKE_SLOT = """
local due = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%.6f', due + tonumber(ARGV[2])), 'EX', 120)
return string.format('%.6f', due - tonumber(ARGV[3]))
"""


class RateBudget:
    def __init__(self, redis: Redis, namespace: str, tenant: str, reserve_share: float = 0.1,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:rate:{tenant}"
        self._reserve = reserve_share
        self._clock = clock
        self._sleep = sleep
        self._take_slot = redis.register_script(_TAKE_SLOT)
        self.waited = 0.0

    async def limit(self) -> int:
        raw = await self._redis.get(f"{self._prefix}:total")
        return int(raw) if raw else DEFAULT_LIMIT

    def _allowed(self, limit: int) -> int:
        return max(1, math.floor(limit * (1 - self._reserve)))

    async def _phase(self) -> float:
        raw = await self._redis.get(f"{self._prefix}:phase")
        return float(raw) if raw else 0.0

    async def acquire(self) -> None:
        """Wait for this call's slot, then take one credit of the current window, waiting for the next window
        while this one is spent."""
        allowed = self._allowed(await self.limit())
        await self._wait_until(await self._slot(allowed))
        while True:
            phase = await self._phase()
            minute = int((self._clock() - phase) // 60)
            key = f"{self._prefix}:{phase:.3f}:{minute}"
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 120)
                used, _ = await pipe.execute()
            if used <= allowed:
                return
            await self._wait_for_window(phase, minute + 1)
            allowed = self._allowed(await self.limit())  # a response may have told the real limit meanwhile

    async def _slot(self, allowed: int) -> float:
        """When this call may start: a burst of B calls at once, then one every 60 / (allowed - B) s. A minute
        then holds at most `allowed` - 1 calls: one short of the cap, so that rounding and the clocks of other
        pollers never push a call into the next window's wait."""
        burst = max(1, min(allowed // 2, max(MIN_BURST, math.floor(allowed * BURST_SHARE))))
        interval = 60 / max(1, allowed - burst)
        return float(await self._take_slot(keys=[f"{self._prefix}:due"],
                                           args=[self._clock(), interval, (burst - 1) * interval]))

    async def observe(self, total: int | None, remaining: int | None) -> None:
        """Learn the account's limit and window phase; if others left little, stop until the next window."""
        if not total or remaining is None:
            return
        now = self._clock()
        # A window just began when Remaining is back near the full limit. Responses to concurrent calls arrive
        # out of order, so smaller rises mean nothing, and the phase is set once per window (the lock).
        fresh = remaining >= total - FRESH_WINDOW_SLACK
        if fresh and await self._redis.set(f"{self._prefix}:phase-lock", 1, nx=True, ex=50):
            await self._redis.set(f"{self._prefix}:phase", f"{now % 60:.3f}", ex=24 * 3600)
        await self._redis.set(f"{self._prefix}:total", total, ex=24 * 3600)
        if remaining < total * self._reserve:
            phase = await self._phase()
            await self._wait_for_window(phase, int((now - phase) // 60) + 1)

    async def _wait_for_window(self, phase: float, minute: int) -> None:
        await self._wait_until(phase + minute * 60 + 0.05)

    async def _wait_until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            self.waited += delay
            await self._sleep(delay)

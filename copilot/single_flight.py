"""One computation per key at a time, shared by every caller that asks for it meanwhile.

A question many agents ask at once, or a ticket several of them open together, is a cache miss for all of
them until the first search is stored; without this each would run its own searches on Milvus, and on a slow
index the copies queue behind each other (the thundering herd). Per process: each API process still searches
once per key."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

Key = tuple[Hashable, ...]

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self, on_join: Callable[[Key], None] | None = None) -> None:
        """`on_join(key)` is called for each caller that waits on a computation another caller started."""
        self._running: dict[Key, asyncio.Future[T]] = {}
        self._on_join = on_join

    @property
    def in_flight(self) -> int:
        return len(self._running)

    async def run(self, key: Key, compute: Callable[[], Awaitable[T]]) -> T:
        """`compute()`'s result, started now unless a call with the same key is still running. A caller that
        is cancelled (its client went away) does not cancel the others' computation."""
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(compute())
            self._running[key] = running
            running.add_done_callback(lambda done: self._finished(key, done))
        elif self._on_join is not None:
            self._on_join(key)
        return await asyncio.shield(running)

    def _finished(self, key: Key, done: asyncio.Future[T]) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        if not done.cancelled():
            done.exception()  # retrieved here too, so a failure nobody waited for is not reported as lost

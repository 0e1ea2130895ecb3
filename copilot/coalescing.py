"""Queries that arrive while a call of the same kind is running go out together in the next call.

Milvus Lite does a fixed amount of work per search call, whatever the number of query vectors in it (the
newest version of every row, the tombstones, the scalar filter: all walked once per call), and encoding a
batch of texts costs the model little more than one. A burst of new questions therefore costs far less as one
call of fifteen than as fifteen calls (`bench.api_load`, BENCHMARKS.md). A query that comes alone runs at
once, alone: nothing waits for a batch to fill.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
Q = TypeVar("Q")
R = TypeVar("R")


@dataclass
class _Queue(Generic[Q, R]):
    waiting: list[tuple[Q, asyncio.Future[R]]] = field(default_factory=list)
    draining: asyncio.Task[None] | None = None


class Coalescer(Generic[K, Q, R]):
    def __init__(self, call: Callable[[K, list[Q]], Awaitable[list[R]]], max_batch: int = 64) -> None:
        """`call(kind, queries)` answers the queries in order; calls of one kind run one at a time, of different
        kinds side by side."""
        self._call = call
        self._max_batch = max_batch
        self._queues: dict[K, _Queue[Q, R]] = {}

    async def submit(self, kind: K, query: Q) -> R:
        """The answer to `query`. A caller that is cancelled leaves the call it is in to answer the others."""
        queue = self._queues.setdefault(kind, _Queue())
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        queue.waiting.append((query, answer))
        if queue.draining is None:
            queue.draining = asyncio.create_task(self._drain(kind, queue))
        return await answer

    async def _drain(self, kind: K, queue: _Queue[Q, R]) -> None:
        batch: list[tuple[Q, asyncio.Future[R]]] = []
        try:
            while queue.waiting:
                batch, queue.waiting = queue.waiting[:self._max_batch], queue.waiting[self._max_batch:]
                await self._answer(kind, batch)
        finally:
            del self._queues[kind]
            for _, answer in batch + queue.waiting:
                answer.cancel()  # only if stopped before answering it (the loop shutting down)

    async def _answer(self, kind: K, batch: list[tuple[Q, asyncio.Future[R]]]) -> None:
        """Answers a batch in one call; if that call fails, each query again alone, so that one bad query fails
        its own caller only."""
        try:
            answers = await self._call(kind, [query for query, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                for one in batch:
                    await self._answer(kind, [one])
            elif not batch[0][1].done():
                batch[0][1].set_exception(exc)
            return
        for (_, answer), result in zip(batch, answers, strict=True):
            if not answer.done():  # done: its caller went away
                answer.set_result(result)

"""Handle a stream's events concurrently without giving up what Kafka's order guarantees.

An agent that awaits each event before taking the next makes one LLM call at a time, whatever the slots allow.
Here up to `limit` events are handled at once, but the events of one key still one after another in offset
order (a ticket's summaries must not overtake each other), and each partition's events are acknowledged in
offset order. Faust commits the consecutive run of acknowledged offsets, yet takes the first acknowledgement of
a newly assigned partition as where that run starts, so an event acknowledged out of order there could be
committed past an earlier one still in flight, and lost in a crash.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from faust.types import TP, EventT


class InOrderAcks:
    """Acknowledges each partition's events in the order they were taken, whatever order they finish in."""

    def __init__(self, ack: Callable[[EventT], Awaitable[object]]) -> None:
        self._ack = ack
        self._taken: dict[TP, OrderedDict[int, tuple[EventT, bool]]] = defaultdict(OrderedDict)

    def taken(self, event: EventT) -> None:
        self._taken[event.message.tp][event.message.offset] = (event, False)

    async def finished(self, event: EventT) -> None:
        taken = self._taken[event.message.tp]
        taken[event.message.offset] = (event, True)
        while taken:
            offset, (first, done) = next(iter(taken.items()))
            if not done:
                return
            del taken[offset]
            await self._ack(first)


class KeyedConcurrency:
    """Runs `handle` for up to `limit` events at once, one at a time per key; use as `async with`, which
    waits for the events in flight, or cancels them (unacknowledged: Kafka delivers them again) on error."""

    def __init__(self, limit: int, handle: Callable[[EventT], Awaitable[None]],
                 ack: Callable[[EventT], Awaitable[object]]) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._handle = handle
        self._acks = InOrderAcks(ack)
        self._last_of_key: dict[Any, asyncio.Task[None]] = {}
        self._group = asyncio.TaskGroup()

    async def __aenter__(self) -> KeyedConcurrency:
        await self._group.__aenter__()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._group.__aexit__(kind, exc, tb)

    async def submit(self, event: EventT) -> None:
        """Start handling `event` once fewer than `limit` are in flight (after its key's earlier events)."""
        await self._slots.acquire()
        self._acks.taken(event)
        task = self._group.create_task(self._run(event, self._last_of_key.get(event.key)))
        self._last_of_key[event.key] = task
        task.add_done_callback(lambda done: self._forget(event.key, done))

    async def pass_on(self, event: EventT, send: Callable[[EventT], Awaitable[object]]) -> None:
        """Hand `event` to another topic instead (at once, not after its key's events in flight: the receiver
        orders them itself), acknowledged in its turn like the events handled here."""
        self._acks.taken(event)
        await send(event)
        await self._acks.finished(event)

    async def _run(self, event: EventT, before: asyncio.Task[None] | None) -> None:
        try:
            if before is not None:
                await asyncio.wait([before])  # its outcome is its own; only its order matters here
            await self._handle(event)
        finally:
            self._slots.release()
        await self._acks.finished(event)  # not when cancelled: the event is then delivered again

    def _forget(self, key: Any, task: asyncio.Task[None]) -> None:
        if self._last_of_key.get(key) is task:
            del self._last_of_key[key]

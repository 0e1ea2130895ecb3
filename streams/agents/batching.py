"""Shared shape of the batch agents: decode each event (bad ones to the dead-letter topic), keep the newest
message per key, write the batch with backoff, and dead-letter the batch only if the write keeps failing.

A batch is written in two steps, `prepare` (lookups and the embedding call) and `store` (the Milvus write and
what follows it), and the next batch is prepared while the previous one is stored: the model then does not
wait for Milvus and Redis between its calls. Batches are stored one after another in the order taken, and a
batch's events are acknowledged only once it is stored (or dead-lettered), so a crash delivers again whatever
was not stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import faust
from faust.types import EventT, StreamT, TopicT

from copilot.errors import SerializationError
from copilot.metrics import BATCH_EVENTS
from copilot.settings import WorkerSettings
from copilot.wire import deserialize
from streams.deadletter import dead_letter, dead_letter_all
from streams.retry import with_backoff

T = TypeVar("T")
P = TypeVar("P")


@dataclass(frozen=True)
class TwoStepWrite(Generic[T, P]):
    """`prepare(items, before)` gets a batch's items (the newest per key) and what was prepared for the batch
    before, which may still be being stored (None if there was none, or it was dead-lettered); `store` writes
    what it returned."""

    prepare: Callable[[list[T], P | None], Awaitable[P]]
    store: Callable[[P], Awaitable[None]]


@dataclass(frozen=True)
class Batch(Generic[T]):
    events: Sequence[EventT]
    decoded: list[tuple[EventT, T]]
    latest: dict[str, T]  # topics are ordered per key: the last message of a key is its state


async def decoded_events(events: Sequence[EventT], decode: Callable[[EventT], T], dead_letters: TopicT,
                         stage: str) -> list[tuple[EventT, T]]:
    """A batch's events with what they decode to, in order; those that do not decode go to the dead letters."""
    BATCH_EVENTS.labels(stage).observe(len(events))
    decoded: list[tuple[EventT, T]] = []
    for event in events:
        try:
            decoded.append((event, decode(event)))
        except SerializationError as exc:
            await dead_letter(dead_letters, stage, event, exc)
    return decoded


async def decoded_batch(events: Sequence[EventT], cls: type[T], key: Callable[[T], str], dead_letters: TopicT,
                        stage: str) -> Batch[T]:
    decoded = await decoded_events(events, lambda event: deserialize(cls, event.value), dead_letters, stage)
    return Batch(events, decoded, {key(item): item for _, item in decoded})


class BatchPipeline(Generic[T, P]):
    """Prepares each batch as it comes and stores it after the one before; use as `async with`, which waits for
    the last store, or cancels it (unacknowledged: Kafka delivers it again) on error.

    A batch is prepared against what the batch before will leave. If that store then keeps failing, the batch
    before is dead-lettered whole, and re-driving it restores what the next one took as stored."""

    def __init__(self, write: TwoStepWrite[T, P], ack: Callable[[EventT], Awaitable[object]],
                 dead_letters: TopicT, stage: str, give_up_after: float) -> None:
        self._write, self._ack, self._dead_letters, self._stage = write, ack, dead_letters, stage
        self._give_up_after = give_up_after
        self._group = asyncio.TaskGroup()
        self._storing: asyncio.Task[None] | None = None
        self._before: P | None = None

    async def __aenter__(self) -> BatchPipeline[T, P]:
        await self._group.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._group.__aexit__(*exc_info)  # type: ignore[arg-type]

    async def submit(self, batch: Batch[T]) -> None:
        """Prepare `batch` now, then, once the batch before it is stored, start storing it."""
        prepared: list[P] = []  # empty if preparing kept failing (the batch is then dead-lettered)

        async def prepare() -> None:
            prepared.append(await self._write.prepare(list(batch.latest.values()), self._before))

        await self._attempt(batch, prepare)
        if self._storing is not None:
            await self._storing
        self._before = prepared[0] if prepared else None
        self._storing = self._group.create_task(self._store(batch, prepared))

    async def _store(self, batch: Batch[T], prepared: list[P]) -> None:
        if prepared:
            ready = prepared[0]
            await self._attempt(batch, lambda: self._write.store(ready))
        for event in batch.events:
            await self._ack(event)

    async def _attempt(self, batch: Batch[T], step: Callable[[], Awaitable[None]]) -> None:
        """Run the step, retried with backoff; if it keeps failing, dead-letter the batch."""
        try:
            await with_backoff(step, self._give_up_after)
        except Exception as exc:  # noqa: BLE001 - after the retries, keep the data rather than crash the agent
            await dead_letter_all(self._dead_letters, self._stage, [event for event, _ in batch.decoded], exc)


def register_batch_agent(app: faust.App, source: TopicT, stage: str, cls: type[T], key: Callable[[T], str],
                         write: TwoStepWrite[T, P], dead_letters: TopicT, settings: WorkerSettings) -> None:
    """An agent that handles its topic in batches of up to `index_batch_size`, or what arrived in
    `index_batch_seconds`: one embedding call and one Milvus write per batch."""

    @app.agent(source, name=stage)
    async def agent(stream: StreamT) -> None:
        async with BatchPipeline(write, stream.ack, dead_letters, stage, settings.retry_give_up_seconds) as pipeline:
            async for events in stream.noack_take(  # type: ignore[attr-defined]  # on Stream, missing from StreamT
                    settings.index_batch_size, within=settings.index_batch_seconds):
                await pipeline.submit(await decoded_batch(events, cls, key, dead_letters, stage))

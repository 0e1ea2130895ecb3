"""Shared shape of the batch agents: decode each event (bad ones to the dead-letter topic), keep the newest
message per key, write the batch with backoff, and dead-letter the batch only if the write keeps failing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import faust
from faust.types import EventT, StreamT, TopicT

from copilot.errors import SerializationError
from copilot.metrics import BATCH_EVENTS
from copilot.settings import WorkerSettings
from copilot.wire import deserialize
from streams.deadletter import dead_letter
from streams.retry import with_backoff

T = TypeVar("T")


async def process_batch(events: Sequence[EventT], cls: type[T], key: Callable[[T], str],
                        write: Callable[[list[T]], Awaitable[None]], dead_letters: TopicT, stage: str) -> None:
    BATCH_EVENTS.labels(stage).observe(len(events))
    decoded: list[tuple[EventT, T]] = []
    for event in events:
        try:
            decoded.append((event, deserialize(cls, event.value)))
        except SerializationError as exc:
            await dead_letter(dead_letters, stage, event, exc)
    latest: dict[str, T] = {}
    for _, item in decoded:  # topics are ordered per key: the last message of a key is its state
        latest[key(item)] = item
    try:
        await with_backoff(lambda: write(list(latest.values())))
    except Exception as exc:  # noqa: BLE001 - after the retries, keep the data rather than crash the agent
        for event, _ in decoded:
            await dead_letter(dead_letters, stage, event, exc)


def register_batch_agent(app: faust.App, source: TopicT, stage: str, cls: type[T], key: Callable[[T], str],
                         write: Callable[[list[T]], Awaitable[None]], dead_letters: TopicT,
                         settings: WorkerSettings) -> None:
    """An agent that handles its topic in batches of up to `index_batch_size`, or what arrived in
    `index_batch_seconds`: one embedding call and one Milvus write per batch."""

    @app.agent(source, name=stage)
    async def agent(stream: StreamT) -> None:
        async for events in stream.take_events(  # type: ignore[attr-defined]  # on Stream, missing from StreamT
                settings.index_batch_size, within=settings.index_batch_seconds):
            await process_batch(events, cls, key, write, dead_letters, stage)

"""Join agent: tickets and conversations (co-partitioned) -> one merged document per ticket.

Records are joined in batches: a ticket's records arrive together (the poller publishes a ticket with its
conversations), so a batch writes each ticket's join state once, and records all its documents' progress in
one Redis call, rather than once per record. A batch is acknowledged once its documents and states are in the
Kafka client, which Faust flushes before it commits. A failing store is retried with backoff (streams.retry);
a retry may send a document twice, which the later stages find unchanged.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import partial

import faust
from faust.types import EventT, StreamT

from copilot.domain import ConversationEvent, MergedDocument, TicketEvent
from copilot.metrics import DOCUMENTS
from copilot.wire import deserialize, serialize
from streams.agents.batching import decoded_events
from streams.deadletter import dead_letter_all
from streams.freshness import record_freshness
from streams.join_states import JoinStates
from streams.merging import JoinState, apply_event, emit
from streams.resources import WorkerResources
from streams.retry import with_backoff
from streams.tables import StreamTables, put
from streams.topics import StreamTopics

Source = TicketEvent | ConversationEvent
ByTicket = dict[Hashable, list[tuple[EventT, Source]]]  # a batch's decoded records by key, in order


@dataclass(frozen=True)
class _Joined:
    events: list[EventT]  # a ticket's records in this batch, in order
    state: JoinState
    document: MergedDocument | None  # to send: the ticket's document changed


def register(app: faust.App, topics: StreamTopics, tables: StreamTables, resources: WorkerResources) -> None:
    states = JoinStates()

    def join(events: list[EventT], sources: list[Source]) -> _Joined:
        key = events[0].key
        state = states.load(key, tables.join_state.get(key))
        for source in sources:
            state = apply_event(state, source)
        return _Joined(events, *emit(state))

    async def store(joined: list[_Joined]) -> None:
        documents = [(j.events[-1].key, j.document) for j in joined if j.document is not None]
        for key, doc in documents:
            await topics.documents.send(key=key, value=serialize(doc))  # flushed before the commit
        await resources.progress.reached("merged", {(d.tenant, d.ticket_id): d.content_hash for _, d in documents})
        for j in joined:
            last = j.events[-1]
            await put(tables.join_state, last, states.dump(last.key, j.state))
        for _, doc in documents:
            DOCUMENTS.labels("merge", "emitted").inc()
            record_freshness("merge", doc.seen_at)

    async def handle(events: Sequence[EventT]) -> None:
        joined: list[_Joined] = []
        for keyed in (await _decoded_by_key(events, topics)).values():
            records, sources = [e for e, _ in keyed], [s for _, s in keyed]
            try:
                joined.append(join(records, sources))
            except Exception as exc:  # noqa: BLE001 - the ticket's records are kept as dead letters
                await dead_letter_all(topics.dead_letters, "merge", records, exc)
        try:
            await with_backoff(lambda: store(joined), resources.settings.worker.retry_give_up_seconds)
        except Exception as exc:  # noqa: BLE001 - kept: re-driven, they join to the same states
            await dead_letter_all(topics.dead_letters, "merge", [e for j in joined for e in j.events], exc)

    @app.agent(topics.sources, name="merge")
    async def merge(stream: StreamT) -> None:
        settings = resources.settings.worker
        async for events in stream.noack_take(  # type: ignore[attr-defined]  # on Stream, missing from StreamT
                settings.merge_batch_size, within=settings.merge_batch_seconds):
            await handle(events)
            for event in events:
                await stream.ack(event)


async def _decoded_by_key(events: Sequence[EventT], topics: StreamTopics) -> ByTicket:
    """The batch's records grouped by ticket, in order; records that cannot be decoded go to the dead letters."""
    by_key: ByTicket = {}
    for event, source in await decoded_events(events, partial(_decoded, topics=topics), topics.dead_letters, "merge"):
        by_key.setdefault(event.key, []).append((event, source))
    return by_key


def _decoded(event: EventT, topics: StreamTopics) -> Source:
    if event.message.topic == topics.names.tickets:
        return deserialize(TicketEvent, event.value)
    return deserialize(ConversationEvent, event.value)

"""Join agent: tickets and conversations (co-partitioned) -> one merged document per ticket."""

from __future__ import annotations

import faust
from faust.types import EventT, StreamT

from copilot.domain import ConversationEvent, TicketEvent
from copilot.metrics import DOCUMENTS
from copilot.wire import deserialize, serialize
from streams.deadletter import or_dead_letter
from streams.freshness import record_freshness
from streams.join_states import JoinStates
from streams.merging import apply_event, emit
from streams.resources import WorkerResources
from streams.tables import StreamTables, put
from streams.topics import StreamTopics


def register(app: faust.App, topics: StreamTopics, tables: StreamTables, resources: WorkerResources) -> None:
    states = JoinStates()

    async def handle(event: EventT) -> None:
        state, doc = emit(apply_event(states.load(event.key, tables.join_state.get(event.key)),
                                      _decoded(event, topics)))
        if doc is not None:
            await topics.documents.send(key=event.key, value=serialize(doc))  # flushed before the commit
            await resources.progress.reached("merged", {(doc.tenant, doc.ticket_id): doc.content_hash})
            DOCUMENTS.labels("merge", "emitted").inc()
            record_freshness("merge", doc.seen_at)
        await put(tables.join_state, event, states.dump(event.key, state))

    @app.agent(topics.sources, name="merge")
    async def merge(stream: StreamT) -> None:
        async for event in stream.events():
            await or_dead_letter(topics.dead_letters, "merge", event, handle)


def _decoded(event: EventT, topics: StreamTopics) -> TicketEvent | ConversationEvent:
    if event.message.topic == topics.names.tickets:
        return deserialize(TicketEvent, event.value)
    return deserialize(ConversationEvent, event.value)

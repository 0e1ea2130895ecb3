"""Join agent: tickets and conversations (co-partitioned) -> one merged document per ticket."""

from __future__ import annotations

from dataclasses import replace

import faust
from faust.types import EventT, StreamT

from copilot.domain import ConversationEvent, TicketEvent
from copilot.metrics import DOCUMENTS
from copilot.wire import deserialize, serialize
from streams.deadletter import or_dead_letter
from streams.freshness import record_freshness
from streams.join_states import JoinStates
from streams.merging import JoinState, apply_conversation, apply_ticket, merged_document
from streams.resources import WorkerResources
from streams.tables import StreamTables, put
from streams.topics import StreamTopics


def register(app: faust.App, topics: StreamTopics, tables: StreamTables, resources: WorkerResources) -> None:
    states = JoinStates()

    async def handle(event: EventT) -> None:
        state = _apply(states.load(event.key, tables.join_state.get(event.key)), event, topics)
        doc = merged_document(state)
        if doc is not None and doc.state_hash != state.emitted_state_hash:
            await topics.documents.send(key=event.key, value=serialize(doc))  # flushed before the commit
            await resources.progress.reached("merged", {(doc.tenant, doc.ticket_id): doc.content_hash})
            DOCUMENTS.labels("merge", "emitted").inc()
            record_freshness("merge", doc.seen_at)
            state = replace(state, emitted_state_hash=doc.state_hash)
        await put(tables.join_state, event, states.dump(event.key, state))

    @app.agent(topics.sources, name="merge")
    async def merge(stream: StreamT) -> None:
        async for event in stream.events():
            await or_dead_letter(topics.dead_letters, "merge", event, handle)


def _apply(state: JoinState, event: EventT, topics: StreamTopics) -> JoinState:
    if event.message.topic == topics.names.tickets:
        return apply_ticket(state, deserialize(TicketEvent, event.value))
    return apply_conversation(state, deserialize(ConversationEvent, event.value))

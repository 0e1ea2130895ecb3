"""Feedback agent: each vote updates its item's aggregate in the table, then the Redis mirror the API reads.

The topic is keyed by item, so all votes on one item meet in one partition and the table needs no locking.
A redelivered vote is recognised by its id and not counted twice; the mirror is still rewritten, so a crash
between the table and Redis heals on the redelivery.
"""

from __future__ import annotations

import faust
from faust.types import EventT, StreamT

from copilot.domain import FeedbackEvent
from copilot.feedback import decode, encode, quantize, record_vote
from copilot.metrics import FEEDBACK_VOTES
from copilot.wire import deserialize
from streams.deadletter import or_dead_letter
from streams.resources import WorkerResources
from streams.tables import StreamTables, put
from streams.topics import StreamTopics


def register(app: faust.App, topics: StreamTopics, tables: StreamTables, resources: WorkerResources) -> None:
    policy = resources.settings.feedback.policy()

    async def handle(event: EventT) -> None:
        vote = deserialize(FeedbackEvent, event.value)
        stored = tables.feedback.get(event.key)
        current = decode(stored) if stored else None
        updated = record_vote(current, vote.feedback_id, int(vote.given_at.timestamp() * 1000),
                              vote.rating == "positive", quantize(vote.context), policy)
        if updated is not None:
            await put(tables.feedback, event, encode(updated).encode())
            FEEDBACK_VOTES.labels(vote.rating).inc()
        aggregate = updated or current
        assert aggregate is not None  # a redelivered vote has an aggregate already
        await resources.feedback.mirror(vote.tenant, (vote.item_type, vote.item_id), encode(aggregate))

    @app.agent(topics.feedback, name="feedback")
    async def aggregate(stream: StreamT) -> None:
        async for event in stream.events():
            await or_dead_letter(topics.dead_letters, "feedback", event, handle)

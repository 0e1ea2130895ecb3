"""The worker's tables: changelog-backed, so they survive restarts and follow partitions on rebalance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust
from faust.types import EventT, TableT


@dataclass(frozen=True)
class StreamTables:
    join_state: TableT  # ticket key -> encoded JoinState (streams.merging)
    summaries: TableT  # ticket key -> {"content_hash", "summary"}: the summary cache
    revisions: TableT  # ticket key -> [seen_at ms, offset] of the newest document summarized (streams.revisions)
    feedback: TableT  # item key -> copilot.feedback aggregate (JSON), mirrored to Redis for the API


def declare_tables(app: faust.App, partitions: int) -> StreamTables:
    return StreamTables(
        # Faust derives the changelog serializers from key_type/value_type (bytes -> raw, otherwise JSON);
        # a `schema=` alone is not used when the changelog is read back on recovery.
        join_state=app.Table("join-state", default=None, partitions=partitions, key_type=bytes, value_type=bytes),
        summaries=app.Table("summary-cache", default=None, partitions=partitions, key_type=bytes),
        revisions=app.Table("summary-revisions", default=None, partitions=partitions, key_type=bytes),
        feedback=app.Table("feedback", default=None, partitions=partitions, key_type=bytes, value_type=bytes),
    )


async def put(table: TableT, event: EventT, value: Any) -> None:
    """`table[event.key] = value`, with the changelog record in the Kafka client before this returns.

    Faust's own assignment queues the record in a buffer that its commit does not reliably wait for
    (`ProducerBuffer.flush` returns once the queue is empty, though the record last taken from it may not have
    reached the client, and gives up when one takes over 0.1 s), so a crash could keep the event's committed
    offset and lose the state it produced. Sent like this, the record is in the client's
    accumulator, which Faust flushes before it commits offsets, as for every `topic.send`
    (tests/integration/test_table_writes.py)."""
    table.data[event.key] = value  # the changelog topic below carries the table's own serializers
    await table.changelog_topic.send(key=event.key, value=value, partition=event.message.partition)

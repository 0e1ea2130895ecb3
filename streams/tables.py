"""The worker's tables: changelog-backed, so they survive restarts and follow partitions on rebalance."""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TableT


@dataclass(frozen=True)
class StreamTables:
    join_state: TableT  # ticket key -> encoded JoinState (streams.merging)
    summaries: TableT  # ticket key -> {"content_hash", "summary"}: the summary cache
    feedback: TableT  # item key -> copilot.feedback aggregate (JSON), mirrored to Redis for the API


def declare_tables(app: faust.App, partitions: int) -> StreamTables:
    return StreamTables(
        # Faust derives the changelog serializers from key_type/value_type (bytes -> raw, otherwise JSON);
        # a `schema=` alone is not used when the changelog is read back on recovery.
        join_state=app.Table("join-state", default=None, partitions=partitions, key_type=bytes, value_type=bytes),
        summaries=app.Table("summary-cache", default=None, partitions=partitions, key_type=bytes),
        feedback=app.Table("feedback", default=None, partitions=partitions, key_type=bytes, value_type=bytes),
    )

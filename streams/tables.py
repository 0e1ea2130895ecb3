"""The worker's tables: changelog-backed, so they survive restarts and follow partitions on rebalance."""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TableT


@dataclass(frozen=True)
class StreamTables:
    join_state: TableT  # ticket key -> encoded JoinState (streams.merging)
    summaries: TableT  # ticket key -> {"content_hash", "summary"}: the summary cache


def declare_tables(app: faust.App, partitions: int) -> StreamTables:
    return StreamTables(
        join_state=app.Table("join-state", default=None, partitions=partitions,
                             schema=faust.Schema(key_serializer="raw", value_serializer="raw")),
        summaries=app.Table("summary-cache", default=None, partitions=partitions,
                            schema=faust.Schema(key_serializer="raw", value_serializer="json")),
    )

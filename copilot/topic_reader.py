"""Reading what a topic holds now, from an offset or a time, up to its high watermarks (no consumer group)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

# Errors of a partition or group whose leader or coordinator is moving or not elected yet (a topic or group just
# created): they pass in a moment, though librdkafka does not flag them all as retriable.
MOVING = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.NOT_COORDINATOR,
          KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError.COORDINATOR_LOAD_IN_PROGRESS}


T = TypeVar("T")


def passes(exc: KafkaException) -> bool:
    """Whether asking again can succeed."""
    error = exc.args[0]
    return bool(error.retriable()) or error.code() in MOVING


def asked_again(ask: Callable[[], T], attempts: int = 10) -> T:
    """`ask()`, asked again with backoff while its error `passes`: a partition just created answers
    NOT_LEADER_FOR_PARTITION for a moment, a group just created NOT_COORDINATOR."""
    for attempt in range(attempts - 1):
        try:
            return ask()
        except KafkaException as exc:
            if not passes(exc):
                raise
        time.sleep(0.2 * 2 ** min(attempt, 4))
    return ask()


def read_topic(bootstrap: str, topic: str, since: datetime | None = None, timeout: float = 60.0) -> Iterator[Message]:
    """Messages written at or after `since` (all when None), oldest first per partition, then stop."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "copilot-reader", "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return
        def high_watermark(partition: int) -> int:
            return int(consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1])

        ends = {p: asked_again(partial(high_watermark, p)) for p in metadata.partitions}
        start_ms = int(since.timestamp() * 1000) if since else 0
        starts = consumer.offsets_for_times([TopicPartition(topic, p, start_ms) for p in ends], timeout=10)
        begin = {tp.partition: tp.offset for tp in starts if 0 <= tp.offset < ends[tp.partition]}
        consumer.assign([TopicPartition(topic, p, o) for p, o in begin.items()])
        pending, deadline = set(begin), time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=0.2):  # returns early only when 500 arrived
                partition, offset = msg.partition(), msg.offset()
                if msg.error() is not None or partition is None or offset is None or partition not in pending:
                    continue
                yield msg
                if offset + 1 >= ends[partition]:
                    pending.discard(partition)
    finally:
        consumer.close()

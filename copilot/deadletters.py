"""Reading and re-driving the dead-letter topic (`copilot dlq list | replay`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

from confluent_kafka import Consumer, TopicPartition
from redis.asyncio import Redis

from connectors.publisher import KafkaPublisher, OutgoingMessage
from copilot.domain import DeadLetter
from copilot.errors import SerializationError
from copilot.settings import KafkaSettings, Settings
from copilot.topics import TopicNames
from copilot.wire import deserialize


@dataclass(frozen=True)
class DeadLetterEntry:
    partition: int
    offset: int
    letter: DeadLetter

    @property
    def source(self) -> str:
        return f"{self.letter.source_topic}[{self.letter.partition}]@{self.letter.offset}"

    @property
    def id(self) -> str:
        return f"{self.partition}:{self.offset}"


def read_dead_letters(settings: KafkaSettings, timeout: float = 30.0) -> Iterator[DeadLetterEntry]:
    """Every letter now in the topic, oldest first per partition (reads to the high watermarks, no group)."""
    topic = TopicNames(settings.namespace).dead_letters
    consumer = Consumer({"bootstrap.servers": settings.bootstrap_servers, "group.id": f"{settings.namespace}-dlq",
                         "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in metadata.partitions}
        pending = {p for p, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(topic, p, 0) for p in pending])
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=0.2):  # returns early only when 500 arrived
                partition, offset, value = msg.partition(), msg.offset(), msg.value()
                if msg.error() is not None or partition is None or offset is None:
                    continue
                if offset + 1 >= ends[partition]:
                    pending.discard(partition)
                try:
                    yield DeadLetterEntry(partition, offset, deserialize(DeadLetter, value or b""))
                except SerializationError:
                    continue  # not ours: nothing to replay
    finally:
        consumer.close()


async def replay_dead_letters(settings: Settings, stage: str | None = None) -> int:
    """Re-publish original messages to their source topics; a Redis set makes each letter replay once."""
    entries = await asyncio.to_thread(lambda: list(read_dead_letters(settings.kafka)))
    redis = Redis.from_url(settings.redis.url, decode_responses=True)
    publisher = KafkaPublisher(settings.kafka.bootstrap_servers, client_id="copilot-dlq-replay")
    done_key = f"{settings.kafka.namespace}:dlq:replayed"
    try:
        todo = [e for e in entries if (stage is None or e.letter.stage == stage)
                and not await redis.sismember(done_key, e.id)]
        messages = [OutgoingMessage(e.letter.source_topic, (e.letter.key or b"").decode(), e.letter.value)
                    for e in todo]
        if messages:
            await publisher.publish(messages)
            await redis.sadd(done_key, *(e.id for e in todo))
        return len(todo)
    finally:
        publisher.close()
        await redis.aclose()

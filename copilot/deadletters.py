"""Reading and re-driving the dead-letter topic (`copilot dlq list | replay`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from connectors.publisher import KafkaPublisher, OutgoingMessage
from copilot.domain import DeadLetter
from copilot.errors import SerializationError
from copilot.redis_client import connect
from copilot.settings import KafkaSettings, Settings
from copilot.topic_reader import read_topic
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


def read_dead_letters(settings: KafkaSettings) -> Iterator[DeadLetterEntry]:
    """Every letter now in the topic, oldest first per partition."""
    for msg in read_topic(settings.bootstrap_servers, TopicNames(settings.namespace).dead_letters):
        try:
            yield DeadLetterEntry(msg.partition() or 0, msg.offset() or 0, deserialize(DeadLetter, msg.value() or b""))
        except SerializationError:
            continue  # not ours: nothing to replay


async def replay_dead_letters(settings: Settings, stage: str | None = None) -> int:
    """Re-publish original messages, with their headers, to their source topics; a Redis set makes each letter
    replay once."""
    entries = await asyncio.to_thread(lambda: list(read_dead_letters(settings.kafka)))
    redis = connect(settings.redis)
    publisher = KafkaPublisher(settings.kafka.bootstrap_servers, client_id="copilot-dlq-replay")
    done_key = f"{settings.kafka.namespace}:dlq:replayed"
    try:
        wanted = [e for e in entries if stage is None or e.letter.stage == stage]
        done = await redis.smismember(done_key, [e.id for e in wanted]) if wanted else []
        todo = [e for e, replayed in zip(wanted, done, strict=True) if not replayed]
        messages = [OutgoingMessage(e.letter.source_topic, (e.letter.key or b"").decode(), e.letter.value,
                                    e.letter.headers) for e in todo]
        if messages:
            await publisher.publish(messages)
            await redis.sadd(done_key, *(e.id for e in todo))
        return len(todo)
    finally:
        publisher.close()
        await redis.aclose()

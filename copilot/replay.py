"""`copilot replay --stage S --from T`: re-drive one stage by re-publishing its source topic from T.

Every stage is idempotent: the join re-emits only changed state, the summarizer reuses its cache while the
content and the summarizer are unchanged (a new model or prompt misses the cache and re-summarizes), and the
indexer upserts by key. So a replay with nothing changed leaves every result as it was.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

from confluent_kafka import Consumer, Message, TopicPartition

from connectors.publisher import KafkaPublisher, OutgoingMessage
from copilot.settings import KafkaSettings
from copilot.topics import ALL, TopicNames

STAGES = ("merge", "summarize", "index")


def source_topics(names: TopicNames, stage: str) -> list[str]:
    return {"merge": [names.tickets, names.conversations], "summarize": [names.documents],
            "index": [names.summaries]}[stage]


def messages_since(settings: KafkaSettings, topic: str, since: datetime | None,
                   timeout: float = 60.0) -> Iterator[Message]:
    """The messages now in `topic` written at or after `since` (all of them when None), up to the end."""
    consumer = Consumer({"bootstrap.servers": settings.bootstrap_servers, "group.id": f"{settings.namespace}-replay",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        start_ms = int(since.timestamp() * 1000) if since else 0
        starts = consumer.offsets_for_times([TopicPartition(topic, p, start_ms) for p in partitions], timeout=10)
        begin = {tp.partition: tp.offset for tp in starts if 0 <= tp.offset < ends[tp.partition]}
        consumer.assign([TopicPartition(topic, p, o) for p, o in begin.items()])
        pending, deadline = set(begin), time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=0.2):
                partition, offset = msg.partition(), msg.offset()
                if msg.error() is not None or partition is None or offset is None or partition not in pending:
                    continue
                yield msg
                if offset + 1 >= ends[partition]:
                    pending.discard(partition)
    finally:
        consumer.close()


async def replay(settings: KafkaSettings, stage: str, since: datetime | None) -> int:
    names = TopicNames(settings.namespace)
    compacted = {names(spec) for spec in ALL if spec.compacted}
    publisher = KafkaPublisher(settings.bootstrap_servers, client_id="copilot-replay")
    try:
        total = 0
        for topic in source_topics(names, stage):
            messages = list(messages_since(settings, topic, since))
            if topic in compacted:  # the latest state per key is what counts; older versions would be re-done
                messages = list({m.key(): m for m in messages}.values())
            batch = [OutgoingMessage(topic, (m.key() or b"").decode(), m.value()) for m in messages]
            if batch:
                await publisher.publish(batch)
            total += len(batch)
        return total
    finally:
        publisher.close()

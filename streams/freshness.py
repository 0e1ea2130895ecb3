"""Freshness per stage, and Kafka's share of it.

A stage records, as it hands a change on, the time since the poller saw it. The `KafkaTransit` sensor records,
for each record an agent takes, the time since its producer sent it (the record's Kafka timestamp): producer
batching, the broker, the fetch, and the wait in the agent's buffer behind earlier records (Faust calls the
sensor when the agent's stream takes the record, not when the consumer fetches it). A batching agent takes
each record as it arrives, so its batch window is not counted. Any backlog counts too, so during a replay or
a catch-up this measures the wait in the topic.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime

from faust.sensors import Sensor
from faust.types import TP, Message

from copilot.domain import utcnow
from copilot.metrics import FRESHNESS, KAFKA_TRANSIT
from copilot.topics import TopicNames


def record_freshness(stage: str, seen_at: datetime) -> None:
    FRESHNESS.labels(stage).observe((utcnow() - seen_at).total_seconds())


def consuming_stages(names: TopicNames) -> dict[str, str]:
    """Which stage reads each topic: the label of its records' transit."""
    return {names.tickets: "merge", names.conversations: "merge", names.documents: "summarize",
            names.deferred: "deferred", names.summaries: "index", names.articles: "articles",
            names.feedback: "feedback"}


class KafkaTransit(Sensor):
    def __init__(self, stages: Mapping[str, str]) -> None:
        super().__init__()
        self.stages = dict(stages)

    def on_message_in(self, tp: TP, offset: int, message: Message) -> None:
        stage = self.stages.get(message.topic)
        if stage is not None and message.timestamp:
            KAFKA_TRANSIT.labels(stage).observe(max(0.0, time.time() - message.timestamp))

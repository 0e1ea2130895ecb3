"""Idempotent Kafka producer: a batch is published only when the broker acknowledged every message."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, Message, Producer

from copilot.errors import UpstreamError


class PublishError(UpstreamError):
    """Some messages of a batch were not acknowledged; the caller must not advance its cursor."""


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: str
    value: bytes | None
    headers: dict[str, bytes] | None = None


class KafkaPublisher:
    def __init__(self, bootstrap_servers: str, client_id: str = "copilot-poller") -> None:
        # murmur2 is Java's (and aiokafka's) partitioner, so every producer places a key on the same partition.
        self._producer = Producer({
            "bootstrap.servers": bootstrap_servers, "client.id": client_id,
            "enable.idempotence": True, "acks": "all", "partitioner": "murmur2_random",
            "linger.ms": 5, "compression.type": "lz4", "message.timeout.ms": 120_000,
        })

    async def publish(self, messages: Sequence[OutgoingMessage], ack_seconds: float = 60.0) -> None:
        """Produce all, then wait for every acknowledgement; raises PublishError if any failed."""
        errors: list[str] = []

        def delivered(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                errors.append(f"{msg.topic()}[{msg.key()!r}]: {err}")

        for m in messages:
            headers: dict[str, str | bytes | None] | None = dict(m.headers) if m.headers else None
            while True:
                try:
                    self._producer.produce(m.topic, key=m.key.encode(), value=m.value, headers=headers,
                                           on_delivery=delivered)
                    break
                except BufferError:
                    await asyncio.to_thread(self._producer.poll, 0.1)
        remaining = await asyncio.to_thread(self._producer.flush, ack_seconds)
        if remaining or errors:
            raise PublishError(f"{remaining} unacknowledged, {len(errors)} failed: {errors[:3]}")

    def close(self) -> None:
        self._producer.flush(10)

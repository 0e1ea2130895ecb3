"""Test helpers: builders for domain objects and polling with a deadline (never a fixed sleep)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from copilot.domain import ConversationEvent, TicketEvent

T = TypeVar("T")
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return BASE + timedelta(seconds=seconds)


def ticket(ticket_id: int = 1, conversation_ids: tuple[int, ...] = (), updated: int = 0, **kw: object) -> TicketEvent:
    fields: dict[str, object] = dict(
        tenant="acme.freshdesk.com", ticket_id=ticket_id, subject="SSO login fails",
        description_text="Users get a SAML error.", status=2, priority=1, created_at=at(0), updated_at=at(updated),
        seen_at=at(updated), conversation_ids=conversation_ids,
    )
    fields.update(kw)
    return TicketEvent(**fields)  # type: ignore[arg-type]


def conversation(conversation_id: int, ticket_id: int = 1, created: int = 1, body: str = "Please retry.",
                 incoming: bool = False, **kw: object) -> ConversationEvent:
    fields: dict[str, object] = dict(
        tenant="acme.freshdesk.com", ticket_id=ticket_id, conversation_id=conversation_id, body_text=body,
        incoming=incoming, private=False, created_at=at(created), updated_at=at(created), seen_at=at(created),
    )
    fields.update(kw)
    return ConversationEvent(**fields)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], T | None], timeout: float, interval: float = 0.25, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    """Every (key, value) now in a topic."""
    from copilot.topic_reader import read_topic as read

    return [(msg.key() or b"", msg.value() or b"") for msg in read(bootstrap, topic)]


def create_topic(bootstrap: str, topic: str, partitions: int = 1) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(30)


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes, int]],
            headers: dict[str, bytes] | None = None) -> None:
    """(key, value, partition) records, each with `headers`, acknowledged by the broker."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    for key, value, partition in records:
        producer.produce(topic, key=key, value=value, partition=partition, headers=headers)
    assert producer.flush(30) == 0


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int = 1) -> list[int]:
    """The group's committed offset of each partition (negative: none); asked again while the group's
    coordinator moves, as it does in a new group's first seconds."""
    from confluent_kafka import Consumer, TopicPartition

    from copilot.topic_reader import asked_again

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        tps = asked_again(lambda: consumer.committed([TopicPartition(topic, p) for p in range(partitions)],
                                                     timeout=10))
        return [tp.offset for tp in tps]
    finally:
        consumer.close()

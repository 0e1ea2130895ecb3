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


def read_topic(bootstrap: str, topic: str, timeout: float = 30.0) -> list[tuple[bytes, bytes]]:
    """Every message now in a topic, read up to the high watermarks (no consumer group, no idle guessing)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-reader", "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        out: list[tuple[bytes, bytes]] = []
        done = {p for p, end in ends.items() if end == 0}
        deadline = time.monotonic() + timeout
        while len(done) < len(ends) and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=0.5):
                if msg.error() is None:
                    out.append((msg.key(), msg.value()))
                    if msg.offset() + 1 >= ends[msg.partition()]:
                        done.add(msg.partition())
        return out
    finally:
        consumer.close()

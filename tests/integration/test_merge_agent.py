"""The merge agent on real Kafka and Redis: a batch of source records gives one document per complete ticket
and writes each ticket's join state once, not once per record; a record that cannot be decoded is a dead
letter; a Redis that comes back while the batch's store is retried loses nothing, and when the batch cannot be
stored in the time allowed (Redis is gone), every record of it is kept as a dead letter."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from redis import Redis

from copilot.domain import DeadLetter, MergedDocument
from copilot.settings import KafkaSettings, StackSettings
from copilot.stack.redis import RedisServer
from copilot.topics import TopicNames, ensure_topics
from copilot.wire import deserialize, serialize
from tests.helpers import committed_offsets, conversation, free_port, produce, read_topic, ticket, wait_for

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 2
TENANT = "acme.freshdesk.com"


def _records(names: TopicNames) -> dict[str, list[tuple[bytes, bytes, int]]]:
    """Ticket 1 with six conversations, ticket 2 with two, ticket 3 waiting for its conversation, and a
    record that is not Avro: (key, value, partition) per topic, a ticket's records in one partition."""
    def key(ticket_id: int) -> bytes:
        return f"{TENANT}/ticket/{ticket_id}".encode()

    listed = {1: tuple(range(11, 17)), 2: (21, 22), 3: (31,)}
    tickets = [(key(t), serialize(ticket(t, conversation_ids=ids)), t % PARTITIONS) for t, ids in listed.items()]
    conversations = [(key(t), serialize(conversation(c, ticket_id=t, body=f"reply {c}")), t % PARTITIONS)
                     for t, ids in listed.items() if t != 3 for c in ids]
    return {names.tickets: [*tickets, (key(4), b"\x00not avro", 0)], names.conversations: conversations}


@asynccontextmanager
async def _merging(services: dict[str, str], tmp_path: Path, meanwhile: Callable[[TopicNames], None] | None = None,
                   **env: str) -> AsyncIterator[TopicNames]:
    """The records above published, then a merge worker whose first batch is exactly all of them (its stderr in
    worker.log) and which retries a failing store for 2 s, until it has committed them; `meanwhile` runs once
    the worker is started."""
    namespace = f"t{uuid.uuid4().hex[:12]}"
    names = TopicNames(namespace)
    kafka = KafkaSettings(COPILOT_KAFKA_BOOTSTRAP=services["COPILOT_KAFKA_BOOTSTRAP"], COPILOT_NAMESPACE=namespace,
                          COPILOT_KAFKA_PARTITIONS=PARTITIONS)
    await asyncio.to_thread(ensure_topics, kafka)
    records = _records(names)
    for topic, published in records.items():
        await asyncio.to_thread(produce, services["COPILOT_KAFKA_BOOTSTRAP"], topic, published)
    batch = sum(len(published) for published in records.values())
    with (tmp_path / "worker.log").open("wb") as log:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.integration.agent_worker", "merge", cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
            env={**os.environ, **services, "COPILOT_NAMESPACE": namespace, "COPILOT_DATA_DIR": str(tmp_path),
                 "COPILOT_KAFKA_PARTITIONS": str(PARTITIONS), "COPILOT_MERGE_BATCH": str(batch),
                 "COPILOT_MERGE_BATCH_SECONDS": "120", "COPILOT_RETRY_GIVE_UP_SECONDS": "2", **env})
    try:
        if meanwhile is not None:
            await asyncio.to_thread(meanwhile, names)
        for topic, published in records.items():
            ends = [sum(1 for *_, p in published if p == partition) for partition in range(PARTITIONS)]
            await asyncio.to_thread(_committed, services["COPILOT_KAFKA_BOOTSTRAP"], names, topic, ends)
        yield names
    finally:
        worker.kill()
        await worker.wait()


def _committed(bootstrap: str, names: TopicNames, topic: str, ends: list[int]) -> None:
    wait_for(lambda: [max(o, 0) for o in committed_offsets(bootstrap, f"{names.namespace}-worker", topic,
                                                            PARTITIONS)] == ends,
             60, interval=0.5, what=f"{topic} committed at {ends}")


async def test_a_batch_gives_one_document_per_complete_ticket_and_one_state_write_per_ticket(services, tmp_path,
                                                                                            redis):
    bootstrap = services["COPILOT_KAFKA_BOOTSTRAP"]
    async with _merging(services, tmp_path) as names:
        documents = [deserialize(MergedDocument, v) for _, v in read_topic(bootstrap, names.documents)]
        states = read_topic(bootstrap, f"{names.namespace}-worker-join-state-changelog")
        letters = [deserialize(DeadLetter, v) for _, v in read_topic(bootstrap, names.dead_letters)]
        progress = await redis.hgetall(f"{names.namespace}:progress:{TENANT}:merged")
    assert b"Traceback" not in (tmp_path / "worker.log").read_bytes()

    assert sorted((d.ticket_id, [c.conversation_id for c in d.conversations]) for d in documents) == [
        (1, list(range(11, 17))), (2, [21, 22])]  # ticket 3 still waits for its conversation
    assert sorted(key for key, _ in states) == [f"{TENANT}/ticket/{t}".encode() for t in (1, 2, 3)]  # not 11
    assert [(letter.stage, letter.key, letter.value) for letter in letters] == [
        ("merge", f"{TENANT}/ticket/4".encode(), b"\x00not avro")]
    assert progress == {str(d.ticket_id): d.content_hash for d in documents}


async def test_a_batch_that_cannot_be_stored_is_kept_whole_as_dead_letters(services, tmp_path):
    bootstrap = services["COPILOT_KAFKA_BOOTSTRAP"]
    gone = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens: recording the progress fails
    async with _merging(services, tmp_path, COPILOT_REDIS_URL=gone) as names:
        letters = [deserialize(DeadLetter, v) for _, v in read_topic(bootstrap, names.dead_letters)]
        states = read_topic(bootstrap, f"{names.namespace}-worker-join-state-changelog")

    records = _records(names)
    kept = sorted((letter.source_topic, letter.partition, letter.offset) for letter in letters)
    assert kept == sorted((topic, p, offset) for topic, published in records.items()
                          for p in range(PARTITIONS)
                          for offset in range(sum(1 for *_, q in published if q == p)))
    assert sum("ConnectionError" in letter.error for letter in letters) == len(letters) - 1  # and the bad one
    assert states == []  # no state was stored: re-driven, the records join as the first time


async def test_a_store_retried_until_redis_comes_back_loses_nothing(services, tmp_path, redis):
    bootstrap, port = services["COPILOT_KAFKA_BOOTSTRAP"], free_port()
    late = RedisServer(StackSettings(COPILOT_DATA_DIR=str(tmp_path / "late"), COPILOT_REDIS_PORT=port))

    def redis_back_once_the_store_failed(names: TopicNames) -> None:
        wait_for(lambda: read_topic(bootstrap, names.documents), 60, what="the store to start: documents sent")
        time.sleep(3)  # the progress call fails meanwhile (nothing listens), and is retried
        late.up()

    try:
        async with _merging(services, tmp_path, redis_back_once_the_store_failed,
                            COPILOT_REDIS_URL=late.address, COPILOT_RETRY_GIVE_UP_SECONDS="60") as names:
            letters = [deserialize(DeadLetter, v) for _, v in read_topic(bootstrap, names.dead_letters)]
            documents = {deserialize(MergedDocument, v).ticket_id for _, v in read_topic(bootstrap, names.documents)}
            progress = set(Redis.from_url(late.address).hkeys(f"{names.namespace}:progress:{TENANT}:merged"))
    finally:
        late.down()

    assert [letter.value for letter in letters] == [b"\x00not avro"]  # the bad record only
    assert documents == {1, 2} and progress == {b"1", b"2"}  # a document sent twice is the same document

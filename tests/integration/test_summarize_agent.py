"""The summarize agent on real Kafka with an OpenAI-compatible stub (tests/openai_stub.py): several documents
are summarized at once within the worker's and each tenant's LLM bounds, a ticket's summaries keep their
order, and everything is committed; a hung LLM ends in fallback summaries rather than a stalled stage; a
tenant's backlog hanging on the LLM goes to the deferred lane past its share instead of holding back another
tenant, an older document of a ticket arriving after a newer one is not handed on, and a document's dead
letter, from either lane, is replayed with its revision."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from copilot.deadletters import replay_dead_letters
from copilot.domain import DeadLetter, MergedDocument, SummarizedDocument
from copilot.settings import KafkaSettings, Settings
from copilot.topic_reader import read_topic as read_messages
from copilot.topics import TopicNames, ensure_topics
from copilot.wire import deserialize, serialize
from streams.revisions import HEADER
from tests.helpers import at, committed_offsets, produce, read_topic, wait_for
from tests.openai_stub import StubState, start_stub

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 2
LONG = "The export stops at row 10000 with a timeout. " * 700  # several chunks: a map-reduce, two rounds of calls


def _doc(tenant: str, ticket_id: int, description: str = "Login fails after the password reset.") -> MergedDocument:
    return MergedDocument(tenant=tenant, ticket_id=ticket_id, subject=f"{tenant} ticket {ticket_id}",
                          description_text=description, status=2, priority=1, created_at=at(0), updated_at=at(1),
                          seen_at=at(1), content_hash=f"{tenant}-{ticket_id}-{len(description)}", state_hash="s")


def _publish(bootstrap: str, names: TopicNames, docs: list[MergedDocument]) -> list[int]:
    """Sends the documents (a ticket always to the same partition); returns each partition's end offset."""
    records = [(d.key.encode(), serialize(d), d.ticket_id % PARTITIONS) for d in docs]
    produce(bootstrap, names.documents, records)
    return [sum(1 for *_, p in records if p == partition) for partition in range(PARTITIONS)]


async def _summaries(bootstrap: str, names: TopicNames, count: int) -> list[SummarizedDocument]:
    for _ in range(240):
        found = await asyncio.to_thread(read_topic, bootstrap, names.summaries)
        if len(found) >= count:
            return [deserialize(SummarizedDocument, value) for _, value in found]
        await asyncio.sleep(0.5)
    raise AssertionError(f"{len(found)} of {count} summaries after 120 s")


@asynccontextmanager
async def _worker(services: dict[str, str], tmp_path: Path, **env: str
                  ) -> AsyncIterator[tuple[TopicNames, StubState]]:
    """A summarize worker with the stub as its LLM (4 calls at once, 2 per tenant), in its own namespace."""
    server, state = await start_stub()
    namespace = f"t{uuid.uuid4().hex[:12]}"
    kafka = KafkaSettings(COPILOT_KAFKA_BOOTSTRAP=services["COPILOT_KAFKA_BOOTSTRAP"], COPILOT_NAMESPACE=namespace,
                          COPILOT_KAFKA_PARTITIONS=PARTITIONS)
    await asyncio.to_thread(ensure_topics, kafka)
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.agent_worker", "summarize", cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **services, "COPILOT_NAMESPACE": namespace, "COPILOT_DATA_DIR": str(tmp_path),
             "COPILOT_KAFKA_PARTITIONS": str(PARTITIONS), "COPILOT_SUMMARIZER": "openai",
             "OPENAI_BASE_URL": str(server.make_url("/v1")), "OPENAI_API_KEY": "test-key",
             "COPILOT_LLM_CONCURRENCY": "4", "COPILOT_LLM_TENANT_CONCURRENCY": "2", **env})
    try:
        yield TopicNames(namespace), state
    finally:
        worker.kill()
        _, err = await worker.communicate()
        await server.close()
    assert b"Traceback" not in err, err[-3000:].decode()


def _committed(bootstrap: str, names: TopicNames, ends: list[int], topic: str | None = None) -> None:
    """Waits for the worker to commit `ends` on the documents topic (or `topic`); 0 stands for none committed."""
    def committed() -> list[int]:
        found = committed_offsets(bootstrap, f"{names.namespace}-worker", topic or names.documents, PARTITIONS)
        return [max(offset, 0) for offset in found]

    wait_for(lambda: committed() == ends, 30, interval=0.5, what=f"offsets {ends} committed")


async def test_documents_are_summarized_at_once_within_the_bounds_and_each_ticket_in_order(services, tmp_path):
    bootstrap = services["COPILOT_KAFKA_BOOTSTRAP"]
    async with _worker(services, tmp_path) as (names, state):
        state.delay = 0.3
        # ticket 1 as a long ticket (two rounds of calls), at once edited short: the short one must wait for it
        docs = [_doc("acme", 1, LONG), _doc("acme", 1)] + [_doc(t, n) for n in range(2, 14) for t in ("acme", "bravo")]
        ends = _publish(bootstrap, names, docs)
        summaries = await _summaries(bootstrap, names, len(docs))
        await asyncio.to_thread(_committed, bootstrap, names, ends)

    assert sorted(s.document.content_hash for s in summaries) == sorted(d.content_hash for d in docs)
    assert all(s.summary and s.summary.summarizer == "openai:gpt-4o-mini" for s in summaries)
    assert state.peak["*"] == 4  # the worker's bound, reached: not one call at a time
    assert state.peak["acme"] == state.peak["bravo"] == 2  # each tenant's bound, never passed
    first = [s.document.content_hash for s in summaries if s.document.key == docs[0].key]
    assert first == [docs[0].content_hash, docs[1].content_hash]


async def test_a_hung_llm_gives_fallback_summaries_and_commits_rather_than_a_stalled_stage(services, tmp_path):
    bootstrap = services["COPILOT_KAFKA_BOOTSTRAP"]
    settings = {"COPILOT_LLM_TIMEOUT": "0.5", "COPILOT_LLM_RETRIES": "0", "COPILOT_LLM_BREAKER_FAILURES": "2",
                "COPILOT_LLM_BREAKER_SECONDS": "300"}
    async with _worker(services, tmp_path, **settings) as (names, state):
        state.delay = 5.0  # longer than the timeout: the LLM never answers in time
        docs = [_doc(t, n) for n in range(1, 31) for t in ("acme", "bravo")]
        ends = _publish(bootstrap, names, docs)
        summaries = await _summaries(bootstrap, names, len(docs))
        await asyncio.to_thread(_committed, bootstrap, names, ends)

    assert len(summaries) == len(docs)
    assert all(s.summary and s.summary.fallback for s in summaries)
    assert len(state.prompts) <= 8  # the calls in flight when the breaker opened, not one per document


async def test_a_tenants_backlog_waiting_on_the_llm_does_not_hold_back_another_tenant(services, tmp_path):
    bootstrap = services["COPILOT_KAFKA_BOOTSTRAP"]
    async with _worker(services, tmp_path, COPILOT_LLM_TIMEOUT="120") as (names, state):
        state.holds["acme"] = asyncio.Event()  # acme's chat calls hang until it is set
        backlog = [_doc("acme", n) for n in range(2, 62, 2)]  # 30 documents, all in partition 0
        bravo = _doc("bravo", 100)  # behind all of them in the same partition
        ends = _publish(bootstrap, names, [*backlog, bravo])
        [first] = await _summaries(bootstrap, names, 1)
        assert first.document.key == bravo.key  # summarized while acme's calls still hang
        # acme kept its share in the agent (2 x 2 tenant slots); the rest waits in the deferred lane
        deferred = await asyncio.to_thread(read_topic, bootstrap, names.deferred)
        assert sorted(key for key, _ in deferred) == sorted(d.key.encode() for d in backlog[4:])

        state.holds["acme"].set()
        summaries = await _summaries(bootstrap, names, len(backlog) + 1)
        await asyncio.to_thread(_committed, bootstrap, names, ends)
        await asyncio.to_thread(_committed, bootstrap, names, [len(backlog) - 4, 0], names.deferred)

    assert sorted(s.document.content_hash for s in summaries) == sorted(d.content_hash for d in [*backlog, bravo])
    assert state.peak["acme"] == 2  # both lanes together kept acme's bound


async def test_an_older_document_of_a_ticket_arriving_after_a_newer_one_is_not_handed_on(services, tmp_path):
    bootstrap = services["COPILOT_KAFKA_BOOTSTRAP"]
    async with _worker(services, tmp_path) as (names, state):
        older, newer = _doc("acme", 2, "Login fails."), _doc("acme", 2, "Login fails after the reset, every time.")
        ends = _publish(bootstrap, names, [older, newer])  # seen in the same poll: the offset orders them
        await _summaries(bootstrap, names, 2)
        # the same two as the deferred lane gets them, older last: each carries its merged-topic offset
        produce(bootstrap, names.deferred, [(newer.key.encode(), serialize(newer), 0)], {"copilot-revision": b"1"})
        produce(bootstrap, names.deferred, [(older.key.encode(), serialize(older), 0)], {"copilot-revision": b"0"})
        await asyncio.to_thread(_committed, bootstrap, names, ends)
        await asyncio.to_thread(_committed, bootstrap, names, [2, 0], names.deferred)
        summaries = await _summaries(bootstrap, names, 3)

    # the newer one again (the same revision: a redelivery), the older one not: the last summary is the newest
    assert [s.document.content_hash for s in summaries] == [older.content_hash, newer.content_hash,
                                                            newer.content_hash]
    assert len(state.prompts) == 2  # the repeated one came from the cache


async def test_a_documents_dead_letter_is_replayed_with_its_revision_in_either_lane(services, tmp_path, monkeypatch):
    bootstrap = services["COPILOT_KAFKA_BOOTSTRAP"]
    async with _worker(services, tmp_path) as (names, _):
        merged_key, deferred_key = b"acme.freshdesk.com/ticket/6", b"acme.freshdesk.com/ticket/7"
        produce(bootstrap, names.documents, [(merged_key, b"\x00not avro", 0)])  # offset 0 of its partition
        produce(bootstrap, names.deferred, [(deferred_key, b"\x00not avro", 1)], {HEADER: b"41"})
        await asyncio.to_thread(wait_for, lambda: len(read_topic(bootstrap, names.dead_letters)) == 2, 60)
        letters = [deserialize(DeadLetter, value) for _, value in read_topic(bootstrap, names.dead_letters)]
        assert sorted((letter.source_topic, letter.headers[HEADER]) for letter in letters) == sorted(
            [(names.documents, b"0"), (names.deferred, b"41")])  # each document's offset in documents.merged

        for name in ("COPILOT_KAFKA_BOOTSTRAP", "COPILOT_REDIS_URL"):
            monkeypatch.setenv(name, services[name])
        monkeypatch.setenv("COPILOT_NAMESPACE", names.namespace)
        assert await replay_dead_letters(Settings()) == 2

    def sent(topic: str) -> list[tuple[bytes, list[tuple[str, bytes]] | None]]:
        return [(m.key(), m.headers()) for m in read_messages(bootstrap, topic)]

    assert await asyncio.to_thread(sent, names.documents) == [(merged_key, None), (merged_key, [(HEADER, b"0")])]
    assert await asyncio.to_thread(sent, names.deferred) == [(deferred_key, [(HEADER, b"41")])] * 2

"""Summarize agent: a summary per content change; unchanged content (replays, metadata edits) reuses the cache.
Several documents are summarized at once (streams.keyed_concurrency), as many as the summarizer asks for."""

from __future__ import annotations

import faust
from faust.types import EventT, StreamT

from copilot.domain import MergedDocument, SummarizedDocument, Summary, utcnow
from copilot.metrics import LLM_CALLS
from copilot.wire import deserialize, serialize
from streams.deadletter import or_dead_letter
from streams.freshness import record_freshness
from streams.keyed_concurrency import KeyedConcurrency
from streams.resources import WorkerResources
from streams.tables import StreamTables, put
from streams.topics import StreamTopics


def register(app: faust.App, topics: StreamTopics, tables: StreamTables, resources: WorkerResources) -> None:
    async def handle(event: EventT) -> None:
        doc = deserialize(MergedDocument, event.value)
        summary = None if doc.deleted else await _summary(doc, event, tables, resources)
        out = SummarizedDocument(document=doc, summary=summary, summarized_at=utcnow())
        await topics.summaries.send(key=event.key, value=serialize(out))  # flushed before the commit
        record_freshness("summarize", doc.seen_at)

    async def guarded(event: EventT) -> None:
        await or_dead_letter(topics.dead_letters, "summarize", event, handle)

    @app.agent(topics.documents, name="summarize")
    async def summarize(stream: StreamT) -> None:
        # acknowledged by KeyedConcurrency, in offset order, once handled
        manual = stream.noack()  # type: ignore[attr-defined]  # on Stream, missing from StreamT
        async with KeyedConcurrency(resources.summarizer.documents_in_flight, guarded, manual.ack) as documents:
            async for event in manual.events():
                await documents.submit(event)


async def _summary(doc: MergedDocument, event: EventT, tables: StreamTables, resources: WorkerResources) -> Summary:
    cached = tables.summaries.get(event.key)
    summarizer = resources.summarizer.name
    if cached and cached["content_hash"] == doc.content_hash and cached["summary"]["summarizer"] == summarizer:
        return Summary(**cached["summary"])  # same content, same model: no new call (a fallback retries)
    summary = await resources.summarizer.summarize(doc)
    LLM_CALLS.labels(summary.summarizer).inc()
    await put(tables.summaries, event, {"content_hash": doc.content_hash, "summary": summary.__dict__})
    return summary

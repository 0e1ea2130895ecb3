"""Summarize agent: a summary per content change; unchanged content (replays, metadata edits) reuses the cache."""

from __future__ import annotations

import faust
from faust.types import EventT, StreamT

from copilot.domain import MergedDocument, SummarizedDocument, Summary, utcnow
from copilot.metrics import LLM_CALLS
from copilot.wire import deserialize, serialize
from streams.deadletter import or_dead_letter
from streams.freshness import record_freshness
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

    @app.agent(topics.documents, name="summarize")
    async def summarize(stream: StreamT) -> None:
        async for event in stream.events():
            await or_dead_letter(topics.dead_letters, "summarize", event, handle)


async def _summary(doc: MergedDocument, event: EventT, tables: StreamTables, resources: WorkerResources) -> Summary:
    cached = tables.summaries.get(event.key)
    summarizer = resources.summarizer.name
    if cached and cached["content_hash"] == doc.content_hash and cached["summary"]["summarizer"] == summarizer:
        return Summary(**cached["summary"])  # same content, same model: no new call (a fallback retries)
    summary = await resources.summarizer.summarize(doc)
    LLM_CALLS.labels(summary.summarizer).inc()
    await put(tables.summaries, event, {"content_hash": doc.content_hash, "summary": summary.__dict__})
    return summary

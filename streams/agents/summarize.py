"""Summarize agent: a summary per content change; unchanged content (replays, metadata edits) reuses the cache.

Several documents are summarized at once (streams.keyed_concurrency), as many as the summarizer asks for, and
at most its share per tenant: a tenant's documents beyond it go to the deferred topic, which a second agent
summarizes, so another tenant's document behind a backlog in the partition does not wait for all of it. Both
lanes hand a ticket's documents on newest last (streams.revisions).
"""

from __future__ import annotations

import faust
from faust.types import EventT, StreamT

from copilot.domain import MergedDocument, SummarizedDocument, Summary, tenant_of_key, utcnow
from copilot.metrics import DOCUMENTS, LLM_CALLS
from copilot.wire import deserialize, serialize
from streams.deadletter import or_dead_letter
from streams.freshness import record_freshness
from streams.keyed_concurrency import KeyedConcurrency
from streams.resources import WorkerResources
from streams.revisions import Revision, carried, revision_of, superseded
from streams.tables import StreamTables, put
from streams.tenant_shares import TenantShares
from streams.topics import StreamTopics


def register(app: faust.App, topics: StreamTopics, tables: StreamTables, resources: WorkerResources) -> None:
    summarizer = resources.summarizer

    def stale(event: EventT, revision: Revision) -> bool:
        if superseded(tables.revisions.get(event.key), revision):
            DOCUMENTS.labels("summarize", "superseded").inc()
            return True
        return False

    async def handle(event: EventT) -> None:
        doc = deserialize(MergedDocument, event.value)
        revision = revision_of(event, doc)
        if stale(event, revision):
            return
        summary, computed = (None, False) if doc.deleted else await _summary(doc, event, tables, resources)
        if stale(event, revision):  # a newer one was handed on by the other lane meanwhile
            return
        await put(tables.revisions, event, list(revision))  # the table holds it before this coroutine yields
        if computed:
            await put(tables.summaries, event, {"content_hash": doc.content_hash, "summary": summary.__dict__})
        out = SummarizedDocument(document=doc, summary=summary, summarized_at=utcnow())
        await topics.summaries.send(key=event.key, value=serialize(out))  # flushed before the commit
        record_freshness("summarize", doc.seen_at)

    async def guarded(event: EventT) -> None:  # a re-driven letter keeps its revision
        await or_dead_letter(topics.dead_letters, "summarize", event, handle, carried(event))

    async def defer(event: EventT) -> None:  # the same partition: the deferred lane writes the same tables
        await topics.deferred.send(key=event.key, value=event.value, partition=event.message.partition,
                                   headers=carried(event))
        DOCUMENTS.labels("summarize", "deferred").inc()

    @app.agent(topics.documents, name="summarize")
    async def summarize(stream: StreamT) -> None:
        shares = TenantShares(summarizer.documents_per_tenant)

        def tenant(event: EventT) -> str:  # a keyless event (dead-lettered) counts as a tenant of its own
            return tenant_of_key(event.key.decode()) if event.key else ""

        async def in_share(event: EventT) -> None:
            try:
                await guarded(event)
            finally:
                shares.finished(tenant(event))

        # acknowledged by KeyedConcurrency, in offset order, once handled or deferred
        manual = stream.noack()  # type: ignore[attr-defined]  # on Stream, missing from StreamT
        async with KeyedConcurrency(summarizer.documents_in_flight, in_share, manual.ack) as documents:
            async for event in manual.events():
                owner = tenant(event)
                if not shares.admits(owner):
                    await documents.pass_on(event, defer)
                    continue
                shares.started(owner)
                await documents.submit(event)

    @app.agent(topics.deferred, name="summarize-deferred")
    async def summarize_deferred(stream: StreamT) -> None:
        manual = stream.noack()  # type: ignore[attr-defined]  # on Stream, missing from StreamT
        async with KeyedConcurrency(summarizer.documents_in_flight, guarded, manual.ack) as documents:
            async for event in manual.events():
                await documents.submit(event)


async def _summary(doc: MergedDocument, event: EventT, tables: StreamTables, resources: WorkerResources
                   ) -> tuple[Summary, bool]:
    """(the summary, whether it was computed now rather than taken from the cache)."""
    cached = tables.summaries.get(event.key)
    summarizer = resources.summarizer.name
    if cached and cached["content_hash"] == doc.content_hash and cached["summary"]["summarizer"] == summarizer:
        return Summary(**cached["summary"]), False  # same content, same model: no new call (a fallback retries)
    summary = await resources.summarizer.summarize(doc)
    LLM_CALLS.labels(summary.summarizer).inc()
    return summary, True

"""Index agent: batches of summarized documents -> one embedding call -> one Milvus upsert (and deletes).

Rows are keyed by the ticket key, so reprocessing overwrites instead of duplicating.
"""

from __future__ import annotations

import faust

from copilot.documents import embedding_text
from copilot.domain import SummarizedDocument, utcnow
from copilot.metrics import DOCUMENTS, FRESHNESS
from streams.agents.batching import register_batch_agent
from streams.resources import WorkerResources
from streams.rows import ticket_row
from streams.topics import StreamTopics


def register(app: faust.App, topics: StreamTopics, resources: WorkerResources) -> None:
    async def write(items: list[SummarizedDocument]) -> None:
        await index_batch(items, resources)

    register_batch_agent(app, topics.summaries, "index", SummarizedDocument, lambda i: i.document.key, write,
                         topics.dead_letters, resources.settings.worker)


async def index_batch(items: list[SummarizedDocument], resources: WorkerResources) -> None:
    live = [i for i in items if not i.document.deleted]
    gone = [i for i in items if i.document.deleted]
    embedder, idx = await resources.embedder(), await resources.index()
    vectors = await embedder.embed([embedding_text(i.document, i.summary) for i in live])
    now = utcnow()
    await idx.upsert_tickets([ticket_row(i, v, now) for i, v in zip(live, vectors, strict=True)])
    await idx.delete(idx.tickets_alias, [i.document.key for i in gone])
    await resources.progress.reached("indexed", {(i.document.tenant, i.document.ticket_id):
                                                 i.document.content_hash for i in live})
    for item in gone:
        await resources.progress.forget("indexed", item.document.tenant, [item.document.ticket_id])
    for item in live:
        FRESHNESS.labels("index").observe((now - item.document.seen_at).total_seconds())
    DOCUMENTS.labels("index", "upserted").inc(len(live))
    DOCUMENTS.labels("index", "deleted").inc(len(gone))

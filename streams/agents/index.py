"""Index agent: batches of summarized documents -> one embedding call -> one Milvus upsert (and deletes).

Rows are keyed by the ticket key, so reprocessing overwrites instead of duplicating.
"""

from __future__ import annotations

import faust

from copilot.documents import embedding_text
from copilot.domain import SummarizedDocument, utcnow
from copilot.index import CopilotIndex
from copilot.metrics import DOCUMENTS
from copilot.result_cache import index_changed
from streams.agents.batching import register_batch_agent
from streams.freshness import record_freshness
from streams.resources import WorkerResources
from streams.rows import row_identity, ticket_row
from streams.topics import StreamTopics
from streams.warming import WARM_STATUSES


def register(app: faust.App, topics: StreamTopics, resources: WorkerResources) -> None:
    async def write(items: list[SummarizedDocument]) -> None:
        await index_batch(items, resources)

    register_batch_agent(app, topics.summaries, "index", SummarizedDocument, lambda i: i.document.key, write,
                         topics.dead_letters, resources.settings.worker)


async def index_batch(items: list[SummarizedDocument], resources: WorkerResources) -> None:
    gone = [i for i in items if i.document.deleted]
    embedder, idx = await resources.embedder(), await resources.index()
    embeds = {t: (await resources.retrieval(t)).embed for t in {i.document.tenant for i in items}}
    live, unchanged = await _changed(idx, [i for i in items if not i.document.deleted], embeds)
    vectors = await embedder.embed([embedding_text(i.document, i.summary, embeds[i.document.tenant]) for i in live]
                                   + [i.document.subject for i in live])  # one call: subjects are short
    now = utcnow()
    await idx.upsert_tickets([ticket_row(i, embeds[i.document.tenant], v, s, now)
                              for i, v, s in zip(live, vectors[:len(live)], vectors[len(live):], strict=True)])
    await idx.delete(idx.tickets_alias, [i.document.key for i in gone])
    if live or gone:
        changed: dict[str, list[str]] = {}
        for item in (*live, *gone):
            changed.setdefault(item.document.tenant, []).append(item.document.key)
        await index_changed(resources.redis, resources.settings.kafka.namespace, changed)
    for item in live:
        if item.document.status in WARM_STATUSES:
            resources.warmer.add(item.document.tenant, [item.document.ticket_id])
    await resources.progress.reached("indexed", {(i.document.tenant, i.document.ticket_id):
                                                 i.document.content_hash for i in live})
    for item in gone:
        await resources.progress.forget("indexed", item.document.tenant, [item.document.ticket_id])
    for item in live:
        record_freshness("index", item.document.seen_at)
    DOCUMENTS.labels("index", "upserted").inc(len(live))
    DOCUMENTS.labels("index", "unchanged").inc(len(unchanged))
    DOCUMENTS.labels("index", "deleted").inc(len(gone))


async def _changed(idx: CopilotIndex, items: list[SummarizedDocument], embeds: dict[str, str]
                   ) -> tuple[list[SummarizedDocument], list[SummarizedDocument]]:
    """(documents whose row would differ from the stored one, documents already stored as they are).

    A replay or a redelivery then costs one lookup instead of an embedding and a rewrite, and leaves the
    index exactly as it was (rewriting moves rows between Milvus Lite segments, whose BM25 statistics
    differ, so even identical rows would rank differently)."""
    identities = {item.document.key: row_identity(item, embeds[item.document.tenant]) for item in items}
    fields = sorted({name for identity in identities.values() for name in identity})
    stored = await idx.stored_tickets(list(identities), fields)
    changed, same = [], []
    for item in items:
        row = stored.get(item.document.key)
        if row is not None and all(row.get(f) == v for f, v in identities[item.document.key].items()):
            same.append(item)
        else:
            changed.append(item)
    return changed, same

"""Index agent: batches of summarized documents -> one embedding call -> one Milvus upsert (and deletes).

Rows are keyed by the ticket key, so reprocessing overwrites instead of duplicating; a summary older than the
newest one of its ticket (a dead letter re-driven late) is left out (streams.revisions). A batch is planned
(looked up, embedded) while the batch before it is stored (streams.agents.batching).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from copilot.documents import embedding_text
from copilot.domain import SummarizedDocument, utcnow
from copilot.index import CopilotIndex
from copilot.metrics import DOCUMENTS
from copilot.result_cache import index_changed
from streams.agents.batching import TwoStepWrite, register_batch_agent
from streams.freshness import record_freshness
from streams.resources import WorkerResources
from streams.revisions import outdated
from streams.rows import row_identity, ticket_row
from streams.tables import StreamTables
from streams.topics import StreamTopics
from streams.warming import WARM_STATUSES


def register(app: faust.App, topics: StreamTopics, tables: StreamTables, resources: WorkerResources) -> None:
    async def prepare(items: list[SummarizedDocument], before: IndexPlan | None) -> IndexPlan:
        current = [i for i in items
                   if not outdated(tables.revisions.get(i.document.key.encode()), i.document.seen_at)]
        DOCUMENTS.labels("index", "superseded").inc(len(items) - len(current))
        return await plan_batch(current, resources, before)

    async def store(plan: IndexPlan) -> None:
        await store_batch(plan, resources)

    register_batch_agent(app, topics.summaries, "index", SummarizedDocument, lambda i: i.document.key,
                         TwoStepWrite(prepare, store), topics.dead_letters, resources.settings.worker)


@dataclass(frozen=True)
class IndexPlan:
    """A batch ready to store: the documents whose rows change, with their vectors, and the rest."""

    live: list[SummarizedDocument]
    vectors: list[list[float]]  # what each live document embeds, then each one's subject
    embeds: dict[str, str]  # per tenant: what its vector represents
    unchanged: list[SummarizedDocument]
    gone: list[SummarizedDocument]
    identities: dict[str, dict[str, Any]]  # each live or unchanged document's row identity, by key

    def rows_after(self) -> dict[str, dict[str, Any] | None]:
        """Each key's row identity once this batch is stored (None: no row)."""
        return {**self.identities, **{i.document.key: None for i in self.gone}}


async def index_batch(items: list[SummarizedDocument], resources: WorkerResources) -> None:
    await store_batch(await plan_batch(items, resources), resources)


async def plan_batch(items: list[SummarizedDocument], resources: WorkerResources,
                     before: IndexPlan | None = None) -> IndexPlan:
    """Looks the documents up and embeds those that change. `before`: the batch stored just before this one,
    perhaps still being stored: its keys' rows are taken as it leaves them, whatever the lookup finds now."""
    embedder, idx = await resources.embedder(), await resources.index()
    embeds = {t: (await resources.retrieval(t)).embed for t in {i.document.tenant for i in items}}
    kept = [i for i in items if not i.document.deleted]
    identities = {i.document.key: row_identity(i, embeds[i.document.tenant]) for i in kept}
    live, unchanged = await _changed(idx, kept, identities, before.rows_after() if before else {})
    vectors = await embedder.embed([embedding_text(i.document, i.summary, embeds[i.document.tenant]) for i in live]
                                   + [i.document.subject for i in live])  # one call: subjects are short
    return IndexPlan(live, vectors, embeds, unchanged, [i for i in items if i.document.deleted], identities)


async def store_batch(plan: IndexPlan, resources: WorkerResources) -> None:
    idx, live, gone, now = await resources.index(), plan.live, plan.gone, utcnow()
    await idx.upsert_tickets([ticket_row(i, plan.embeds[i.document.tenant], v, s, now) for i, v, s
                              in zip(live, plan.vectors[:len(live)], plan.vectors[len(live):], strict=True)])
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
    DOCUMENTS.labels("index", "unchanged").inc(len(plan.unchanged))
    DOCUMENTS.labels("index", "deleted").inc(len(gone))


async def _changed(idx: CopilotIndex, items: list[SummarizedDocument], identities: dict[str, dict[str, Any]],
                   pending: dict[str, dict[str, Any] | None]
                   ) -> tuple[list[SummarizedDocument], list[SummarizedDocument]]:
    """(documents whose row would differ from the stored one, documents already stored as they are).

    A replay or a redelivery then costs one lookup instead of an embedding and a rewrite, and leaves the
    index exactly as it was (rewriting moves rows between Milvus Lite segments, whose BM25 statistics
    differ, so even identical rows would rank differently). A key in `pending` is compared with the row the
    batch before leaves, which may not be stored yet."""
    fields = sorted({name for identity in identities.values() for name in identity})
    stored = await idx.stored_tickets([key for key in identities if key not in pending], fields)
    changed, same = [], []
    for item in items:
        key = item.document.key
        row = pending[key] if key in pending else stored.get(key)
        if row is not None and all(row.get(f) == v for f, v in identities[key].items()):
            same.append(item)
        else:
            changed.append(item)
    return changed, same

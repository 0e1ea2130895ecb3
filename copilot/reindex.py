"""`copilot reindex --index-version v2`: rebuild the index from the topics into new collections while the old
ones keep serving, then switch the aliases.

1. Read the latest summarized document per ticket and the latest article per id (compacted topics).
2. Re-summarize the documents whose summary came from another summarizer than the configured one (a new model
   or prompt); reuse the others. Embed everything with the configured embedder, write to `..._{version}`.
3. Switch both aliases (atomic in Milvus): requests in flight finish on the old collection, the next ones
   read the new one.
4. Catch up: what the running worker wrote (to the old collection) since step 1 began is read again from the
   topics and written to the new one. Rows are keyed, so anything done twice is simply overwritten.

`--dry-run` stops after step 1 and reports what would be reprocessed: documents, articles, and the summaries
(LLM calls) and tokens a new summarizer would cost.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from redis.asyncio import Redis

from copilot.documents import document_text, embedding_text
from copilot.domain import ArticleEvent, SummarizedDocument, utcnow
from copilot.index import CopilotIndex
from copilot.providers.embeddings import Embedder, create_embedder
from copilot.providers.summarizer import Summarizer, create_summarizer
from copilot.result_cache import index_changed
from copilot.settings import Settings
from copilot.topic_reader import read_topic
from copilot.topics import TopicNames
from copilot.wire import deserialize
from streams.rows import article_row, article_text, ticket_row

BATCH = 64
CHARS_PER_TOKEN = 4  # a rough English average; the OpenAI path counts tokens exactly when it runs
SUMMARY_TOKENS = 250  # what one summary answer costs in output tokens, about
PRICES_PER_MILLION = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-4.1-mini": (0.40, 1.60)}
T = TypeVar("T")


@dataclass
class ReindexReport:
    version: str
    documents: int = 0
    articles: int = 0
    resummarized: int = 0  # LLM calls (or local summaries) a new summarizer needs
    input_tokens: int = 0  # estimated, for those summaries
    caught_up: int = 0
    switched: bool = False

    def cost(self, model: str) -> float | None:
        price = PRICES_PER_MILLION.get(model)
        if price is None or not self.resummarized:
            return None if price is None else 0.0
        return (self.input_tokens * price[0] + self.resummarized * SUMMARY_TOKENS * price[1]) / 1_000_000


def latest(bootstrap: str, topic: str, kind: type[T], since: datetime | None = None) -> list[T]:
    """The latest value per key of a topic (from `since` on), decoded."""
    newest = {msg.key(): msg.value() for msg in read_topic(bootstrap, topic, since)}
    return [deserialize(kind, value) for value in newest.values() if value is not None]


class Reindexer:
    def __init__(self, settings: Settings, version: str) -> None:
        self.settings = settings
        self.version = version
        self.names = TopicNames(settings.kafka.namespace)
        self.summarizer: Summarizer = create_summarizer(settings.providers)

    def needs_summary(self, item: SummarizedDocument) -> bool:
        return not item.document.deleted and (item.summary is None
                                              or item.summary.summarizer != self.summarizer.name)

    def plan(self, documents: list[SummarizedDocument], articles: list[ArticleEvent]) -> ReindexReport:
        redo = [d for d in documents if self.needs_summary(d)]
        return ReindexReport(
            self.version, documents=sum(not d.document.deleted for d in documents),
            articles=sum(not a.deleted for a in articles), resummarized=len(redo),
            input_tokens=sum(len(document_text(d.document)) // CHARS_PER_TOKEN for d in redo))

    async def run(self, dry_run: bool) -> ReindexReport:
        bootstrap = self.settings.kafka.bootstrap_servers
        started = utcnow()
        documents = await asyncio.to_thread(latest, bootstrap, self.names.summaries, SummarizedDocument)
        articles = await asyncio.to_thread(latest, bootstrap, self.names.articles, ArticleEvent)
        report = self.plan(documents, articles)
        if dry_run:
            return report
        embedder = await asyncio.to_thread(create_embedder, self.settings.providers)
        m = self.settings.milvus
        index = CopilotIndex(m.uri, self.settings.kafka.namespace, self.version, embedder.dim,
                             m.token.get_secret_value())
        try:
            await asyncio.to_thread(index.ensure)  # the aliases exist, so they stay where they are
            target = index.rebuilding()
            await self._write(target, embedder, documents, articles)
            await asyncio.to_thread(target.seal)
            await asyncio.to_thread(index.switch_aliases)
            report.switched = True
            recent = await asyncio.to_thread(latest, bootstrap, self.names.summaries, SummarizedDocument, started)
            recent_articles = await asyncio.to_thread(latest, bootstrap, self.names.articles, ArticleEvent, started)
            await self._write(target, embedder, recent, recent_articles)
            report.caught_up = len(recent) + len(recent_articles)
            await self._invalidate({d.document.tenant for d in documents} | {a.tenant for a in articles})
        finally:
            index.close()
        return report

    async def _write(self, index: CopilotIndex, embedder: Embedder, documents: list[SummarizedDocument],
                     articles: list[ArticleEvent]) -> None:
        for batch in _batches([d for d in documents if not d.document.deleted]):
            ready = [dataclasses.replace(d, summary=await self.summarizer.summarize(d.document))
                     if self.needs_summary(d) else d for d in batch]
            vectors = await embedder.embed([embedding_text(d.document, d.summary) for d in ready])
            now = utcnow()
            await index.upsert_tickets([ticket_row(d, v, now) for d, v in zip(ready, vectors, strict=True)])
        await index.delete(index.tickets_alias, [d.document.key for d in documents if d.document.deleted])
        for chunk in _batches([a for a in articles if not a.deleted]):
            vectors = await embedder.embed([article_text(a) for a in chunk])
            now = utcnow()
            await index.upsert_articles([article_row(a, v, now) for a, v in zip(chunk, vectors, strict=True)])
        await index.delete(index.articles_alias, [a.key for a in articles if a.deleted])

    async def _invalidate(self, tenants: Iterable[str]) -> None:
        redis = Redis.from_url(self.settings.redis.url, decode_responses=True)
        try:
            await index_changed(redis, self.settings.kafka.namespace, tenants)
        finally:
            await redis.aclose()


def _batches(items: list[T]) -> Iterable[list[T]]:
    return (items[i:i + BATCH] for i in range(0, len(items), BATCH))

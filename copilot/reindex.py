"""`copilot reindex --index-version v2`: rebuild the index from the topics into new collections while the old
ones keep serving, then switch the aliases.

1. Read the latest summarized document per ticket and the latest article per id (compacted topics).
2. Re-summarize the documents whose summary came from another summarizer than the configured one (a new model
   or prompt); reuse the others. Write them to `..._{version}` through the worker's own index agents
   (`streams.agents.index.index_batch`, `...articles.index_articles`), so the rows are the worker's rows.
3. Switch both aliases (atomic in Milvus): requests in flight finish on the old collection, the next ones
   read the new one.
4. Catch up: what the running worker wrote (to the old collection) since step 1 began is read again from the
   topics and written to the new one. Rows are keyed, and rows already stored as they are are skipped, so
   anything done twice changes nothing.

With `--tenant T`, only T's documents are reprocessed: into a new version, where every other tenant's rows
are copied as they are before the switch, or, without `--index-version`, in place in the serving
collections (each row is replaced atomically; a tenant's changed embedding settings take effect this way).

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

from copilot.documents import document_text
from copilot.domain import ArticleEvent, SummarizedDocument, utcnow
from copilot.index import CopilotIndex
from copilot.providers.llm_summarizer import dollars, planned_calls
from copilot.redact import redact
from copilot.result_cache import index_rebuilt
from copilot.settings import Settings
from copilot.tokens import tokenizer_for
from copilot.topic_reader import read_topic
from copilot.topics import TopicNames
from copilot.wire import deserialize
from streams.agents.articles import index_articles
from streams.agents.index import index_batch
from streams.resources import WorkerResources

BATCH = 64
T = TypeVar("T")


@dataclass
class ReindexReport:
    version: str
    documents: int = 0
    articles: int = 0
    resummarized: int = 0  # documents a new summarizer has to summarize again
    llm_calls: int = 0  # what that takes with the OpenAI path (long tickets: a call per chunk, one to merge)
    input_tokens: int = 0  # counted with the chat model's tokenizer
    caught_up: int = 0
    copied: int = 0  # other tenants' rows carried over into the new version
    switched: bool = False

    def cost(self, model: str) -> float | None:
        return dollars(model, self.input_tokens, self.llm_calls)


def latest(bootstrap: str, topic: str, kind: type[T], since: datetime | None = None) -> list[T]:
    """The latest value per key of a topic (from `since` on), decoded."""
    newest = {msg.key(): msg.value() for msg in read_topic(bootstrap, topic, since)}
    return [deserialize(kind, value) for value in newest.values() if value is not None]


class Reindexer:
    def __init__(self, settings: Settings, version: str | None, tenant: str | None = None) -> None:
        """`version` None: in place, which needs a `tenant` (rebuilding everyone in place is a replay)."""
        if version is None and tenant is None:
            raise ValueError("an in-place reindex needs a tenant")
        self.settings = settings
        self.version = version
        self.tenant = tenant
        self.names = TopicNames(settings.kafka.namespace)
        self.tokenizer = tokenizer_for(settings.providers.chat_model)  # what the summaries' prompts would cost
        # the worker's own write path: same rows, same embedder
        self.resources = WorkerResources(settings, warm_neighbourhoods=False)

    def needs_summary(self, item: SummarizedDocument) -> bool:
        return not item.document.deleted and (item.summary is None
                                              or item.summary.summarizer != self.resources.summarizer.name)

    async def _summarized(self, item: SummarizedDocument) -> SummarizedDocument:
        """The item with a summary from this run's summarizer, when it needs one; a batch's run at once, within
        the summarizer's LLM slots."""
        if not self.needs_summary(item):
            return item
        return dataclasses.replace(item, summary=await self.resources.summarizer.summarize(item.document))

    def mine(self, documents: list[SummarizedDocument], articles: list[ArticleEvent]
             ) -> tuple[list[SummarizedDocument], list[ArticleEvent]]:
        """The documents and articles this reindex covers: all, or one tenant's."""
        if self.tenant is None:
            return documents, articles
        return ([d for d in documents if d.document.tenant == self.tenant],
                [a for a in articles if a.tenant == self.tenant])

    def plan(self, documents: list[SummarizedDocument], articles: list[ArticleEvent]) -> ReindexReport:
        redo = [d for d in documents if self.needs_summary(d)]
        planned = [planned_calls(self.tokenizer, redact(document_text(d.document))) for d in redo]
        return ReindexReport(
            self.version or "in place", documents=sum(not d.document.deleted for d in documents),
            articles=sum(not a.deleted for a in articles), resummarized=len(redo),
            llm_calls=sum(calls for calls, _ in planned), input_tokens=sum(tokens for _, tokens in planned))

    async def run(self, dry_run: bool) -> ReindexReport:
        try:
            return await self._run(dry_run)
        finally:
            await self.resources.redis.aclose()

    async def _run(self, dry_run: bool) -> ReindexReport:
        bootstrap = self.settings.kafka.bootstrap_servers
        started = utcnow()
        documents, articles = self.mine(
            await asyncio.to_thread(latest, bootstrap, self.names.summaries, SummarizedDocument),
            await asyncio.to_thread(latest, bootstrap, self.names.articles, ArticleEvent))
        report = self.plan(documents, articles)
        if dry_run:
            return report
        index = None if self.version is None else await self._new_version()
        try:
            if index is None:
                await self._write(documents, articles)  # in place, through the serving aliases
            else:
                report.copied = await self._switch(index, documents, articles)
                report.switched = True
            recent = await asyncio.to_thread(latest, bootstrap, self.names.summaries, SummarizedDocument, started)
            recent_articles = await asyncio.to_thread(latest, bootstrap, self.names.articles, ArticleEvent, started)
            if index is None:  # other tenants' rows were not touched, so neither are their changes
                recent, recent_articles = self.mine(recent, recent_articles)
            await self._write(recent, recent_articles)
            report.caught_up = len(recent) + len(recent_articles)
        finally:
            if index is not None:
                index.close()
        # results cached before are stale now, whatever was written since
        await index_rebuilt(self.resources.redis, self.settings.kafka.namespace,
                            {d.document.tenant for d in documents} | {a.tenant for a in articles})
        return report

    async def _new_version(self) -> CopilotIndex:
        """This version's collections, created empty; the aliases stay where they are."""
        embedder = await self.resources.embedder()
        m = self.settings.milvus
        index = CopilotIndex(m.uri, self.settings.kafka.namespace, str(self.version), embedder.dim,
                             m.token.get_secret_value())
        await asyncio.to_thread(index.ensure, False)
        return index

    async def _switch(self, index: CopilotIndex, documents: list[SummarizedDocument],
                      articles: list[ArticleEvent]) -> int:
        """Fill the new version, carry other tenants' rows over when rebuilding one tenant, and switch the
        aliases; from then on the worker's writes (through the aliases) land there too. Returns rows copied."""
        target = index.rebuilding()
        if self.tenant is not None:  # before any work: other tenants' rows must fit the new schema as they are
            await asyncio.to_thread(index.check_can_copy, target)
        self.resources.use_index(target)
        await self._write(documents, articles)
        copied = 0 if self.tenant is None else await asyncio.to_thread(index.copy_other_tenants, self.tenant, target)
        await asyncio.to_thread(target.seal)
        await asyncio.to_thread(index.switch_aliases)
        return copied

    async def _write(self, documents: list[SummarizedDocument], articles: list[ArticleEvent]) -> None:
        for batch in _batches(documents):
            await index_batch(await asyncio.gather(*map(self._summarized, batch)), self.resources)
        for chunk in _batches(articles):
            await index_articles(chunk, self.resources)


def _batches(items: list[T]) -> Iterable[list[T]]:
    return (items[i:i + BATCH] for i in range(0, len(items), BATCH))

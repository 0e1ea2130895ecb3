"""KB agent: article events -> embeddings -> the articles collection (drafts stored, never recommended)."""

from __future__ import annotations

import faust
from faust.types import StreamT

from copilot.domain import ArticleEvent, utcnow
from streams.agents.batching import process_batch
from streams.resources import WorkerResources
from streams.rows import article_row, article_text
from streams.topics import StreamTopics


def register(app: faust.App, topics: StreamTopics, resources: WorkerResources) -> None:
    w = resources.settings.worker

    async def write(items: list[ArticleEvent]) -> None:
        await index_articles(items, resources)

    @app.agent(topics.articles, name="articles")
    async def articles(stream: StreamT) -> None:
        async for events in stream.take_events(  # type: ignore[attr-defined]  # on Stream, missing from StreamT
                w.index_batch_size, within=w.index_batch_seconds):
            await process_batch(events, ArticleEvent, lambda a: a.key, write, topics.dead_letters, "articles")


async def index_articles(items: list[ArticleEvent], resources: WorkerResources) -> None:
    live = [a for a in items if not a.deleted]
    embedder, idx = await resources.embedder(), await resources.index()
    vectors = await embedder.embed([article_text(a) for a in live])
    now = utcnow()
    await idx.upsert_articles([article_row(a, v, now) for a, v in zip(live, vectors, strict=True)])
    await idx.delete(idx.articles_alias, [a.key for a in items if a.deleted])

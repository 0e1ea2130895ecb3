"""KB agent: article events -> embeddings -> the articles collection (drafts stored, never recommended)."""

from __future__ import annotations

import faust

from copilot.domain import ArticleEvent, utcnow
from copilot.result_cache import index_changed
from streams.agents.batching import register_batch_agent
from streams.resources import WorkerResources
from streams.rows import article_row, article_text
from streams.topics import StreamTopics


def register(app: faust.App, topics: StreamTopics, resources: WorkerResources) -> None:
    async def write(items: list[ArticleEvent]) -> None:
        await index_articles(items, resources)

    register_batch_agent(app, topics.articles, "articles", ArticleEvent, lambda a: a.key, write,
                         topics.dead_letters, resources.settings.worker)


async def index_articles(items: list[ArticleEvent], resources: WorkerResources) -> None:
    live = [a for a in items if not a.deleted]
    embedder, idx = await resources.embedder(), await resources.index()
    vectors = await embedder.embed([article_text(a) for a in live])
    now = utcnow()
    await idx.upsert_articles([article_row(a, v, now) for a, v in zip(live, vectors, strict=True)])
    await idx.delete(idx.articles_alias, [a.key for a in items if a.deleted])
    changed: dict[str, list[str]] = {}
    for article in items:
        changed.setdefault(article.tenant, []).append(article.key)
    await index_changed(resources.redis, resources.settings.kafka.namespace, changed)

"""KB agent: article events -> embeddings -> the articles collection (drafts stored, never recommended)."""

from __future__ import annotations

from dataclasses import dataclass

import faust

from copilot.domain import ArticleEvent, utcnow
from copilot.result_cache import index_changed
from streams.agents.batching import TwoStepWrite, register_batch_agent
from streams.resources import WorkerResources
from streams.rows import article_row, article_text
from streams.topics import StreamTopics


def register(app: faust.App, topics: StreamTopics, resources: WorkerResources) -> None:
    async def prepare(items: list[ArticleEvent], _before: ArticlePlan | None) -> ArticlePlan:
        return await plan_articles(items, resources)

    async def store(plan: ArticlePlan) -> None:
        await store_articles(plan, resources)

    register_batch_agent(app, topics.articles, "articles", ArticleEvent, lambda a: a.key,
                         TwoStepWrite(prepare, store), topics.dead_letters, resources.settings.worker)


@dataclass(frozen=True)
class ArticlePlan:
    items: list[ArticleEvent]
    vectors: list[list[float]]  # one per live (not deleted) article, in order


async def index_articles(items: list[ArticleEvent], resources: WorkerResources) -> None:
    await store_articles(await plan_articles(items, resources), resources)


async def plan_articles(items: list[ArticleEvent], resources: WorkerResources) -> ArticlePlan:
    embedder = await resources.embedder()
    return ArticlePlan(items, await embedder.embed([article_text(a) for a in items if not a.deleted]))


async def store_articles(plan: ArticlePlan, resources: WorkerResources) -> None:
    idx, now = await resources.index(), utcnow()
    live = [a for a in plan.items if not a.deleted]
    await idx.upsert_articles([article_row(a, v, now) for a, v in zip(live, plan.vectors, strict=True)])
    await idx.delete(idx.articles_alias, [a.key for a in plan.items if a.deleted])
    changed: dict[str, list[str]] = {}
    for article in plan.items:
        changed.setdefault(article.tenant, []).append(article.key)
    await index_changed(resources.redis, resources.settings.kafka.namespace, changed)

"""KB agent: article events -> embeddings -> the articles collection (drafts stored, never recommended)."""

from __future__ import annotations

import faust
from faust.types import EventT, StreamT

from copilot.domain import ArticleEvent, utcnow
from copilot.errors import SerializationError
from copilot.wire import deserialize
from streams.deadletter import dead_letter
from streams.resources import WorkerResources
from streams.rows import article_row, article_text, last_per_key
from streams.topics import StreamTopics


def register(app: faust.App, topics: StreamTopics, resources: WorkerResources) -> None:
    w = resources.settings.worker

    @app.agent(topics.articles, name="articles")
    async def articles(stream: StreamT) -> None:
        async for events in stream.take_events(w.index_batch_size, within=w.index_batch_seconds):
            decoded = [a for a in [await _decode(e, topics) for e in events] if a is not None]
            await index_articles(last_per_key(decoded, lambda a: a.key), resources)


async def _decode(event: EventT, topics: StreamTopics) -> ArticleEvent | None:
    try:
        return deserialize(ArticleEvent, event.value)
    except SerializationError as exc:
        await dead_letter(topics.dead_letters, "articles", event, exc)
        return None


async def index_articles(items: list[ArticleEvent], resources: WorkerResources) -> None:
    live = [a for a in items if not a.deleted]
    embedder, idx = await resources.embedder(), await resources.index()
    vectors = await embedder.embed([article_text(a) for a in live])
    now = utcnow()
    await idx.upsert_articles([article_row(a, v, now) for a, v in zip(live, vectors, strict=True)])
    await idx.delete(idx.articles_alias, [a.key for a in items if a.deleted])

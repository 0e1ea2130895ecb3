"""The Faust topic objects of the worker; names and configs come from copilot.topics (one place)."""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TopicT

from copilot.topics import TopicNames


@dataclass(frozen=True)
class StreamTopics:
    sources: TopicT  # tickets + conversations, co-partitioned, consumed together by the join
    articles: TopicT
    documents: TopicT
    deferred: TopicT  # documents of tenants over their share of the LLM (streams.agents.summarize)
    summaries: TopicT
    feedback: TopicT
    dead_letters: TopicT
    names: TopicNames


def declare_topics(app: faust.App, names: TopicNames) -> StreamTopics:
    def raw(*topic_names: str) -> TopicT:
        # Values stay bytes: agents decode them, so a bad message goes to the dead-letter topic instead of
        # crashing the stream inside Faust's deserializer.
        return app.topic(*topic_names, key_serializer="raw", value_serializer="raw")

    return StreamTopics(
        sources=raw(names.tickets, names.conversations), articles=raw(names.articles),
        documents=raw(names.documents), deferred=raw(names.deferred), summaries=raw(names.summaries),
        feedback=raw(names.feedback),
        dead_letters=raw(names.dead_letters),
        names=names,
    )

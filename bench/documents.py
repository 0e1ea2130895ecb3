"""Merged documents straight from Freshdesk-shaped tickets (with their conversations), as the worker would
build them: for benchmarks that measure one stage without running the pipeline."""

from __future__ import annotations

from typing import Any

from connectors.freshdesk.adapter import conversation_event, ticket_event
from copilot.documents import embedding_text
from copilot.domain import MergedDocument, utcnow
from copilot.retrieval_config import RetrievalConfig
from streams.merging import merge_snapshot


def documents(tickets: list[dict[str, Any]], tenant: str = "bench.freshdesk.test") -> list[MergedDocument]:
    seen = utcnow()
    return [merge_snapshot(ticket_event(tenant, raw, seen), [conversation_event(tenant, int(raw["id"]), c, seen)
                                                             for c in raw.get("conversations") or []])
            for raw in tickets]


def embedding_inputs(docs: list[MergedDocument]) -> tuple[list[str], list[str]]:
    """(texts, subjects): what the index agent embeds for each document, with the default retrieval settings."""
    embed = RetrievalConfig().embed
    return [embedding_text(doc, None, embed) for doc in docs], [doc.subject for doc in docs]

"""Index rows built from documents: pure, so what lands in Milvus is testable without Milvus."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from copilot.documents import document_text
from copilot.domain import ArticleEvent, SummarizedDocument


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def ticket_row(item: SummarizedDocument, embed: str, vector: list[float], subject_vector: list[float],
               indexed_at: datetime) -> dict[str, Any]:
    """`vector` represents what the tenant embeds (copilot.documents.embedding_text), `subject_vector` the
    subject alone (copilot.index.SubjectQuery)."""
    doc = item.document
    return {
        "pk": doc.key, "tenant": doc.tenant, "ticket_id": doc.ticket_id, "text": document_text(doc),
        **row_identity(item, embed),
        "attachments": [{"name": a.name, "content_type": a.content_type, "size": a.size} for a in doc.attachments],
        "source_updated_at": ms(doc.updated_at), "seen_at": ms(doc.seen_at), "indexed_at": ms(indexed_at),
        "dense": vector, "subject_dense": subject_vector,
    }


def row_identity(item: SummarizedDocument, embed: str) -> dict[str, Any]:
    """The stored fields that decide a ticket's row, as Milvus returns them (lists are stored as JSON). The
    content hash covers the text, `embedded_as` what the vector represents; the embedding model is fixed per
    index version. Rows equal here are equal."""
    doc, summary = item.document, item.summary
    return {
        "embedded_as": embed,
        "content_hash": doc.content_hash, "summarizer": summary.summarizer if summary else "",
        "problem": summary.problem if summary else "", "cause": summary.cause if summary else "",
        "solution": summary.solution if summary else "", "result": summary.result if summary else "",
        "subject": doc.subject, "status": doc.status, "priority": doc.priority, "tags": json.dumps(list(doc.tags)),
        "group_id": doc.group_id or 0, "responder_id": doc.responder_id or 0,
    }


def article_text(article: ArticleEvent) -> str:
    return f"{article.title}\n{article.description_text}"


def article_row(article: ArticleEvent, vector: list[float], indexed_at: datetime) -> dict[str, Any]:
    return {
        "pk": article.key, "tenant": article.tenant, "article_id": article.article_id, "title": article.title,
        "text": article_text(article), "status": article.status, "updated_at": ms(article.updated_at),
        "indexed_at": ms(indexed_at), "dense": vector,
    }

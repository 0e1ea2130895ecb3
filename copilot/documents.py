"""How a merged document reads as text: for the summarizer, for full-text search and for the embedder."""

from __future__ import annotations

from copilot.domain import MergedDocument, Summary


def document_text(doc: MergedDocument) -> str:
    """Subject, description, then every conversation in order, each labelled with who wrote it."""
    parts = [f"Subject: {doc.subject}", f"Customer: {doc.description_text}"]
    for conv in doc.conversations:
        role = "Customer" if conv.author == "customer" else ("Agent (private note)" if conv.private else "Agent")
        parts.append(f"{role}: {conv.body_text}")
    if doc.attachments:
        parts.append("Attachments: " + ", ".join(f"{a.name} ({a.content_type})" for a in doc.attachments))
    return "\n\n".join(parts)


def embedding_text(doc: MergedDocument, summary: Summary | None) -> str:
    """What the dense vector represents: the problem first, since similar tickets share problems."""
    problem = summary.problem if summary else ""
    return f"{doc.subject}\n{problem}\n{doc.description_text}"[:4000]


def clip_bytes(text: str, limit: int) -> str:
    encoded = text.encode()
    return text if len(encoded) <= limit else encoded[:limit].decode(errors="ignore")

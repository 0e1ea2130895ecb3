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


def embedding_text(doc: MergedDocument, summary: Summary | None, embed: str) -> str:
    """What the dense vector represents, as the tenant chose (copilot.retrieval_config): the ticket's own
    text, its summary, or both (summary first). Small models read only the start (all-MiniLM-L6-v2: 256
    word pieces), so what matters most comes first."""
    if embed == "text" or summary is None:
        return document_text(doc)[:4000]
    brief = "\n".join(part for part in (doc.subject, summary.problem, summary.cause, summary.solution) if part)
    return brief[:4000] if embed == "summary" else f"{brief}\n{doc.description_text}"[:4000]


def clip_bytes(text: str, limit: int) -> str:
    encoded = text.encode()
    return text if len(encoded) <= limit else encoded[:limit].decode(errors="ignore")

"""A ticket the pipeline has not indexed yet (just created, or the poller is behind): fetch it from the
helpdesk, merge and summarize it the way the worker would, and use its embedding as the query. Nothing is
written: the pipeline still indexes it as usual."""

from __future__ import annotations

from dataclasses import dataclass

from api.helpdesk import helpdesk
from copilot.documents import document_text, embedding_text
from copilot.domain import MergedDocument, Summary
from copilot.providers.embeddings import Embedder
from copilot.providers.summarizer import Summarizer
from copilot.tenants import Tenant, TenantRegistry
from streams.merging import merge_snapshot


@dataclass(frozen=True)
class FreshTicket:
    document: MergedDocument
    summary: Summary
    vector: list[float]
    subject_vector: list[float]
    text: str


async def fetch_and_summarize(tenant: Tenant, ticket_id: int, registry: TenantRegistry, summarizer: Summarizer,
                              embedder: Embedder) -> FreshTicket | None:
    """None when the helpdesk does not know the ticket either."""
    async with helpdesk(tenant, registry) as adapter:
        ticket = await adapter.fetch_ticket(ticket_id)
        if ticket is None:
            return None
        conversations = await adapter.fetch_conversations(ticket_id)
    doc = merge_snapshot(ticket, conversations)
    summary = await summarizer.summarize(doc)
    vector, subject_vector = await embedder.embed([embedding_text(doc, summary, tenant.retrieval.embed), doc.subject])
    return FreshTicket(doc, summary, vector, subject_vector, document_text(doc))

"""What a reindex would reprocess and cost: summaries are reused unless they came from another summarizer."""

from dataclasses import replace

import pytest

from copilot.documents import document_text
from copilot.domain import ArticleEvent, MergedDocument, SummarizedDocument, Summary
from copilot.providers.llm_summarizer import CHUNK_TOKENS, MESSAGE_FRAMING, SYSTEM, planned_calls
from copilot.reindex import Reindexer, ReindexReport
from copilot.settings import Settings
from tests.helpers import at


def _doc(ticket_id: int, summarizer: str | None, deleted: bool = False) -> SummarizedDocument:
    doc = MergedDocument(tenant="t", ticket_id=ticket_id, subject="SSO fails",
                         description_text="The login page shows a SAML error. " * 12,
                         status=4, priority=1, created_at=at(0), updated_at=at(1), seen_at=at(1),
                         content_hash="c", state_hash="s", deleted=deleted)
    summary = Summary("p", "c", "s", "r", summarizer=summarizer) if summarizer else None
    return SummarizedDocument(doc, summary)


@pytest.fixture
def local(monkeypatch) -> Reindexer:
    monkeypatch.setenv("COPILOT_SUMMARIZER", "local")
    return Reindexer(Settings(), "v2")


def test_summaries_from_the_configured_summarizer_are_reused(local):
    docs = [_doc(1, "local"), _doc(2, "local"), _doc(3, None, deleted=True)]
    report = local.plan(docs, [])
    assert (report.documents, report.resummarized, report.input_tokens) == (2, 0, 0)


def test_a_new_summarizer_resummarizes_and_the_cost_follows_the_tokens(local):
    docs = [_doc(1, "openai:gpt-4o-mini"), _doc(2, "local"), _doc(3, None)]
    report = local.plan(docs, [])
    assert (report.resummarized, report.llm_calls) == (2, 2)  # short tickets: one call each
    system = local.tokenizer.count(SYSTEM) + MESSAGE_FRAMING
    assert report.input_tokens == 2 * (local.tokenizer.count(document_text(docs[0].document)) + system)
    assert report.cost("gpt-4o-mini") == pytest.approx(
        (report.input_tokens * 0.15 + 2 * 250 * 0.60) / 1_000_000)
    assert report.cost("some-unpriced-model") is None
    assert replace(report, llm_calls=0, input_tokens=0).cost("gpt-4o-mini") == 0.0


def test_a_long_ticket_plans_a_call_per_chunk_and_one_to_merge(local):
    text = "\n\n".join(f"Paragraph {i}: " + "details " * 200 for i in range(30))
    calls, tokens = planned_calls(local.tokenizer, text)
    chunks = local.tokenizer.chunks(text, CHUNK_TOKENS)
    assert len(chunks) >= 2 and calls == len(chunks) + 1
    assert tokens > local.tokenizer.count(text)  # every chunk, the system prompt each time, and the merge
    assert ReindexReport("v2").cost("gpt-4o") == 0.0


def test_a_tenant_reindex_covers_only_that_tenants_documents_and_articles(monkeypatch):
    monkeypatch.setenv("COPILOT_SUMMARIZER", "local")
    docs = [_doc(1, "local"), replace(_doc(2, "local"), document=replace(_doc(2, "local").document, tenant="u"))]
    articles = [_article("t", 5), _article("u", 6)]
    mine, their_articles = Reindexer(Settings(), None, "u").mine(docs, articles)
    assert [d.document.ticket_id for d in mine] == [2] and [a.article_id for a in their_articles] == [6]
    assert Reindexer(Settings(), "v2").mine(docs, articles) == (docs, articles)
    with pytest.raises(ValueError, match="needs a tenant"):
        Reindexer(Settings(), None)


def _article(tenant: str, article_id: int) -> ArticleEvent:
    return ArticleEvent(tenant, article_id, "SSO guide", "Renew the certificate", 2, at(1), at(1))

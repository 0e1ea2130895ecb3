"""The OpenAI path through the real `openai` client, against a local OpenAI-compatible stub."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import numpy as np
import pytest
from prometheus_client import REGISTRY

from copilot.answering import Source, cited
from copilot.documents import document_text
from copilot.domain import MergedConversation, MergedDocument
from copilot.providers.answerer import LLMAnswerer
from copilot.providers.embeddings import OpenAIEmbedder
from copilot.providers.llm_summarizer import CHUNK_TOKENS, LLMSummarizer
from copilot.redact import redact
from copilot.settings import ProviderSettings
from tests.helpers import at
from tests.openai_stub import StubState, start_stub, usage


@pytest.fixture
async def stub() -> AsyncIterator[tuple[ProviderSettings, StubState]]:
    server, state = await start_stub()
    settings = ProviderSettings(OPENAI_BASE_URL=str(server.make_url("/v1")), OPENAI_API_KEY="test-key",
                                COPILOT_EMBEDDING_DIM=64)
    yield settings, state
    await server.close()


def _doc(description: str = "SSO fails for jane@example.com, call +1 415 555 0100.") -> MergedDocument:
    reply = "The issue was caused by an expired certificate. Upload the new one."
    conv = (MergedConversation(1, "agent", False, at(1), reply),)
    return MergedDocument(tenant="t", ticket_id=1, subject="SSO login fails", description_text=description,
                          status=4, priority=1, created_at=at(0), updated_at=at(1), seen_at=at(1),
                          content_hash="c", state_hash="s", conversations=conv)


async def test_summary_comes_from_the_model_and_personal_data_never_leaves(stub):
    settings, state = stub
    summary = await LLMSummarizer(settings).summarize(_doc())
    assert summary.summarizer == "openai:gpt-4o-mini" and not summary.fallback
    assert summary.cause == "stub cause" and summary.confidence == 0.9
    sent = " ".join(m["content"] for m in state.prompts[0])
    assert "jane@example.com" not in sent and "415 555 0100" not in sent and "[EMAIL]" in sent


async def test_invalid_output_is_retried_once_with_the_error(stub):
    settings, state = stub
    state.scripted.append('{"problem": "only this"}')
    summarizer = LLMSummarizer(settings)
    summary = await summarizer.summarize(_doc())
    assert summarizer.calls == 2 and not summary.fallback
    assert "invalid" in state.prompts[1][-1]["content"]


async def test_still_invalid_output_falls_back_to_the_local_summarizer(stub):
    settings, state = stub
    state.scripted += ["not json", "still not json"]
    summary = await LLMSummarizer(settings).summarize(_doc())
    assert summary.fallback and summary.summarizer == "local"
    assert "expired certificate" in summary.cause


async def test_long_ticket_is_summarized_in_chunks_then_merged(stub):
    settings, state = stub
    doc = _doc("\n\n".join(f"Paragraph {i}: " + "details " * 200 for i in range(30)))  # ~6,000 tokens
    summarizer = LLMSummarizer(settings)
    await summarizer.summarize(doc)
    chunks = len(summarizer.tokenizer.chunks(redact(document_text(doc)), CHUNK_TOKENS))
    assert chunks >= 2 and summarizer.calls == chunks + 1
    assert state.prompts[-1][-1]["content"].startswith("Merge these partial summaries")


async def test_openai_embeddings_are_unit_vectors_in_input_order(stub):
    settings, state = stub
    vectors = await OpenAIEmbedder(settings).embed(["sso login saml", "billing invoice", "sso saml login"])
    assert [round(float(np.linalg.norm(v)), 5) for v in vectors] == [1.0, 1.0, 1.0]
    assert np.dot(vectors[0], vectors[2]) > 0.99 > np.dot(vectors[0], vectors[1])
    assert state.embedding_inputs == ["sso login saml", "billing invoice", "sso saml login"]


async def test_a_written_answer_streams_in_pieces_and_only_real_sources_count_as_citations(stub):
    settings, state = stub
    reply = "Rotate the SAML certificate [#12]. Then clear the cache [KB-3]. Also reboot [#999]."
    state.scripted.append(reply)
    sources = [Source("[#12]", "Rotated the SAML certificate for jane@example.com."),
               Source("[KB-3]", "Clear the browser cache after a certificate change.")]
    pieces = [p async for p in LLMAnswerer(settings).stream("How to fix SAML for jane@example.com?", sources)]
    written = "".join(pieces)
    assert len(pieces) > 1  # streamed, not one block
    assert written == reply
    assert cited(written, sources) == ("[#12]", "[KB-3]")  # [#999] was not retrieved: not a citation
    sent = " ".join(m["content"] for m in state.prompts[0])
    assert "[#12]\n" in sent and "[KB-3]\n" in sent and "jane@example.com" not in sent


async def test_llm_calls_are_bounded_per_worker_and_per_tenant_and_their_tokens_counted(stub):
    settings, state = stub
    state.delay = 0.05
    bounded = settings.model_copy(update={"max_concurrent_llm_calls": 3, "max_concurrent_llm_calls_per_tenant": 2})
    summarizer = LLMSummarizer(bounded)
    docs = [replace(_doc(), tenant=tenant, ticket_id=n, subject=f"{tenant} SSO login fails")
            for tenant in ("alpha", "bravo") for n in range(6)]
    await asyncio.gather(*(summarizer.summarize(d) for d in docs))
    assert summarizer.calls == 12
    assert state.peak["*"] == 3  # the worker's bound, reached
    assert max(state.peak[label] for label in state.peak if label != "*") <= 2  # no tenant took more
    prompts = sum(usage(settings.chat_model, sent, "")["prompt_tokens"] for sent in state.prompts)
    assert summarizer.tokens["prompt"] == prompts > 12 * 60  # counted as OpenAI counts: system prompt and ticket
    assert summarizer.tokens["completion"] > 12 * 20


async def test_a_hung_llm_times_out_then_the_breaker_sends_summaries_to_the_fallback_without_calling(stub):
    settings, state = stub
    state.delay = 30.0  # never answers in time
    hung = settings.model_copy(update={"llm_timeout_seconds": 0.2, "llm_retries": 0, "llm_breaker_failures": 2,
                                       "llm_breaker_seconds": 60.0})
    summarizer = LLMSummarizer(hung)
    first = [await summarizer.summarize(replace(_doc(), ticket_id=n)) for n in (1, 2)]
    assert all(s.fallback and s.summarizer == "local" for s in first) and len(state.prompts) == 2
    later = await asyncio.gather(*(summarizer.summarize(replace(_doc(), ticket_id=n)) for n in range(3, 23)))
    assert all(s.fallback for s in later)
    assert len(state.prompts) == 2  # the breaker is open: twenty summaries, no call


async def test_after_the_cooldown_one_trial_call_closes_the_breaker_when_the_llm_answers_again(stub):
    settings, state = stub
    state.delay = 30.0
    flaky = settings.model_copy(update={"llm_timeout_seconds": 0.2, "llm_retries": 0, "llm_breaker_failures": 1,
                                        "llm_breaker_seconds": 0.3})
    summarizer = LLMSummarizer(flaky)
    assert (await summarizer.summarize(_doc())).fallback
    assert REGISTRY.get_sample_value("copilot_llm_circuit_open") == 1
    state.delay = 0.0  # the LLM is back
    assert (await summarizer.summarize(_doc())).fallback  # still cooling down: not asked
    await asyncio.sleep(0.35)
    summaries = await asyncio.gather(*(summarizer.summarize(replace(_doc(), ticket_id=n)) for n in range(2, 6)))
    assert [s.fallback for s in summaries].count(False) == 1  # the trial; the others did not wait for it
    assert len(state.prompts) == 2
    assert REGISTRY.get_sample_value("copilot_llm_circuit_open") == 0  # closed by the trial
    assert not (await summarizer.summarize(_doc())).fallback
    assert len(state.prompts) == 3

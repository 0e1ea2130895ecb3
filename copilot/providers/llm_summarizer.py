"""Summaries from an OpenAI-compatible chat model, validated, with map-reduce for long tickets.

Invalid output is retried once with the validation error; if it is still invalid, or the API fails after the
client's retries, the local summarizer answers and the summary is marked `fallback`. After repeated API failures
a circuit breaker sends summaries to that fallback at once, so a hung LLM costs documents its timeout only until
then.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from openai import APIConnectionError, AsyncOpenAI, InternalServerError, OpenAIError, RateLimitError
from pydantic import BaseModel, Field, ValidationError

from copilot.circuit import CircuitBreaker
from copilot.documents import document_text
from copilot.domain import MergedDocument, Summary
from copilot.metrics import LLM_CIRCUIT_OPEN, LLM_TOKENS
from copilot.providers.local_summarizer import summarize_locally
from copilot.redact import redact
from copilot.settings import ProviderSettings
from copilot.tokens import Tokenizer, tokenizer_for

log = logging.getLogger(__name__)
SUMMARY_TOKENS = 250  # a summary answer's length in tokens, about: for estimates before any call is made
PRICES_PER_MILLION = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-4.1-mini": (0.40, 1.60)}  # USD
MESSAGE_FRAMING = 2 * (3 + 1) + 3  # what the API adds to a system and a user message and the reply's priming
CHUNK_TOKENS = 2_500  # the seed's 10,000 characters, counted in the model's tokens; chunks are merged after

SYSTEM = (
    "You analyse customer support tickets. Answer with one JSON object with the string fields problem, cause, "
    "solution, result, language (ISO 639-1) and the number confidence (0 to 1). Use only facts in the ticket; "
    "write 'Unknown' where the ticket does not say."
)


class SummaryModel(BaseModel):
    problem: str = Field(min_length=1)
    cause: str = Field(min_length=1)
    solution: str = Field(min_length=1)
    result: str = Field(min_length=1)
    language: str = Field(default="en", min_length=2, max_length=8)
    confidence: float = Field(default=0.5, ge=0, le=1)


class LLMSummarizer:
    def __init__(self, settings: ProviderSettings) -> None:
        self.model = settings.chat_model
        self.name = f"openai:{settings.chat_model}"
        self.tokenizer = tokenizer_for(settings.chat_model)
        self._client = AsyncOpenAI(api_key=settings.openai_api_key.get_secret_value() or "not-needed",
                                   base_url=settings.openai_base_url, max_retries=settings.llm_retries,
                                   timeout=settings.llm_timeout_seconds)
        self._slots = asyncio.Semaphore(settings.max_concurrent_llm_calls)
        # documents summarized at once: twice the slots, so documents waiting for a busy tenant's slots leave
        # others room to start
        self.documents_in_flight = 2 * settings.max_concurrent_llm_calls
        self.documents_per_tenant: int | None = 2 * settings.max_concurrent_llm_calls_per_tenant
        self._breaker = CircuitBreaker(settings.llm_breaker_failures, settings.llm_breaker_seconds)
        self._per_tenant = settings.max_concurrent_llm_calls_per_tenant
        self._tenant_slots: dict[str, asyncio.Semaphore] = {}
        self.calls = 0
        self.tokens = {"prompt": 0, "completion": 0}

    async def summarize(self, doc: MergedDocument) -> Summary:
        text = redact(document_text(doc))
        try:
            chunks = pieces(self.tokenizer, text)
            if len(chunks) == 1:
                model = await self._ask(doc.tenant, text)
            else:
                parts = await asyncio.gather(*(self._ask(doc.tenant, chunk) for chunk in chunks))
                model = await self._ask(doc.tenant, "Merge these partial summaries of one ticket:\n" +
                                        "\n".join(p.model_dump_json() for p in parts))
        except LLMUnavailable:
            return _fallback(doc)
        except (OpenAIError, ValidationError, ValueError) as exc:
            log.warning("LLM summary of %s failed, using the local summarizer: %s", doc.key, exc)
            return _fallback(doc)
        return Summary(**model.model_dump(), summarizer=self.name)

    async def _ask(self, tenant: str, content: str) -> SummaryModel:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}]
        reply = await self._complete(tenant, messages)
        try:
            return SummaryModel.model_validate_json(reply)
        except ValidationError as exc:
            messages += [{"role": "assistant", "content": reply},
                         {"role": "user", "content": f"That JSON is invalid: {exc.errors()[:3]}. Answer again."}]
            return SummaryModel.model_validate_json(await self._complete(tenant, messages))

    async def _complete(self, tenant: str, messages: list[Any]) -> str:
        """One chat call, within the tenant's share of the slots and then the worker's, unless the circuit
        breaker is open (checked again once the slots are free: it may have opened while this call waited)."""
        if not self._breaker.allow():
            raise LLMUnavailable
        trial = self._breaker.is_open
        tenant_slots = self._tenant_slots.setdefault(tenant, asyncio.Semaphore(self._per_tenant))
        async with tenant_slots, self._slots:
            if self._breaker.is_open and not trial:
                raise LLMUnavailable
            self.calls += 1
            try:
                response = await self._client.chat.completions.create(
                    model=self.model, messages=messages, temperature=0,
                    response_format={"type": "json_object"},
                )
            except (APIConnectionError, InternalServerError, RateLimitError):  # timeouts are connection errors
                self._breaker.failed()
                raise
            else:
                self._breaker.succeeded()
            finally:
                LLM_CIRCUIT_OPEN.set(self._breaker.is_open)
        usage = response.usage
        if usage is not None:
            for kind, used in (("prompt", usage.prompt_tokens), ("completion", usage.completion_tokens)):
                self.tokens[kind] += used
                LLM_TOKENS.labels(self.model, kind).inc(used)
        return response.choices[0].message.content or ""


class LLMUnavailable(Exception):
    """The circuit breaker refused the call: the LLM failed repeatedly just now."""


def _fallback(doc: MergedDocument) -> Summary:
    return Summary(**{**summarize_locally(doc).__dict__, "fallback": True})


def pieces(tokenizer: Tokenizer, text: str) -> list[str]:
    """What one summary sends: the whole text, or its chunks (one more call then merges their summaries)."""
    return [text] if tokenizer.count(text) <= CHUNK_TOKENS else tokenizer.chunks(text, CHUNK_TOKENS)


def planned_calls(tokenizer: Tokenizer, text: str) -> tuple[int, int]:
    """(calls, prompt tokens) one summary of `text` takes when every answer is valid at once."""
    parts = pieces(tokenizer, text)
    calls = len(parts) + (len(parts) > 1)
    merge_prompt = len(parts) * SUMMARY_TOKENS if len(parts) > 1 else 0
    per_call = tokenizer.count(SYSTEM) + MESSAGE_FRAMING
    return calls, sum(tokenizer.count(p) for p in parts) + calls * per_call + merge_prompt


def dollars(model: str, prompt_tokens: int, calls: int, completion_tokens: int | None = None) -> float | None:
    """Cost at the model's list price (None when unknown); answers count SUMMARY_TOKENS each unless the
    completion tokens are known."""
    price = PRICES_PER_MILLION.get(model)
    if price is None:
        return None
    answered = calls * SUMMARY_TOKENS if completion_tokens is None else completion_tokens
    return (prompt_tokens * price[0] + answered * price[1]) / 1_000_000

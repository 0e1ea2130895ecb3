"""Summaries from an OpenAI-compatible chat model, validated, with map-reduce for long tickets.

Invalid output is retried once with the validation error; if it is still invalid, or the API fails after the
client's retries, the local summarizer answers and the summary is marked `fallback`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from openai import AsyncOpenAI, OpenAIError
from pydantic import BaseModel, Field, ValidationError

from copilot.documents import document_text
from copilot.domain import MergedDocument, Summary
from copilot.metrics import LLM_TOKENS
from copilot.providers.local_summarizer import summarize_locally
from copilot.redact import redact
from copilot.settings import ProviderSettings

log = logging.getLogger(__name__)
CHUNK_CHARS = 10_000  # about 2,500 tokens (the seed's rule); chunks are summarized, then merged

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
        self._client = AsyncOpenAI(api_key=settings.openai_api_key.get_secret_value() or "not-needed",
                                   base_url=settings.openai_base_url, max_retries=3)
        self._slots = asyncio.Semaphore(settings.max_concurrent_llm_calls)
        self._per_tenant = settings.max_concurrent_llm_calls_per_tenant
        self._tenant_slots: dict[str, asyncio.Semaphore] = {}
        self.calls = 0
        self.tokens = {"prompt": 0, "completion": 0}

    async def summarize(self, doc: MergedDocument) -> Summary:
        text = redact(document_text(doc))
        try:
            if len(text) <= CHUNK_CHARS:
                model = await self._ask(doc.tenant, text)
            else:
                parts = await asyncio.gather(*(self._ask(doc.tenant, chunk)
                                               for chunk in split_chunks(text, CHUNK_CHARS)))
                model = await self._ask(doc.tenant, "Merge these partial summaries of one ticket:\n" +
                                        "\n".join(p.model_dump_json() for p in parts))
        except (OpenAIError, ValidationError, ValueError) as exc:
            log.warning("LLM summary of %s failed, using the local summarizer: %s", doc.key, exc)
            local = summarize_locally(doc)
            return Summary(**{**local.__dict__, "fallback": True})
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
        """One chat call, within the tenant's share of the slots and then the worker's."""
        tenant_slots = self._tenant_slots.setdefault(tenant, asyncio.Semaphore(self._per_tenant))
        async with tenant_slots, self._slots:
            self.calls += 1
            response = await self._client.chat.completions.create(
                model=self.model, messages=messages, temperature=0,
                response_format={"type": "json_object"},
            )
        usage = response.usage
        if usage is not None:
            for kind, used in (("prompt", usage.prompt_tokens), ("completion", usage.completion_tokens)):
                self.tokens[kind] += used
                LLM_TOKENS.labels(self.model, kind).inc(used)
        return response.choices[0].message.content or ""


def split_chunks(text: str, max_chars: int) -> list[str]:
    """Split on paragraph boundaries; a paragraph longer than max_chars is cut hard."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for para in text.split("\n\n"):
        pieces = [para[i:i + max_chars] for i in range(0, len(para), max_chars)] or [""]
        for piece in pieces:
            if current and size + len(piece) > max_chars:
                chunks.append("\n\n".join(current))
                current, size = [], 0
            current.append(piece)
            size += len(piece) + 2
    if current:
        chunks.append("\n\n".join(current))
    return chunks

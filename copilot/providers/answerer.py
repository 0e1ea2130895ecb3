"""Answers written by an OpenAI-compatible chat model from the retrieved items only, streamed as they come.

The model sees the question and the items (personal data redacted), each under its citation mark, and is told
to cite them; marks it invents are not reported as citations (copilot.answering.cited).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from copilot.answering import Source
from copilot.redact import redact
from copilot.settings import ProviderSettings

SYSTEM = (
    "You help a customer-support agent. Answer the question using only the numbered sources. After every "
    "sentence, cite the sources it comes from by their marks exactly as given, like [#1234] or [KB-56]. If the "
    "sources do not answer the question, say so in one sentence. Be brief."
)


class LLMAnswerer:
    def __init__(self, settings: ProviderSettings) -> None:
        self.model = settings.chat_model
        self._client = AsyncOpenAI(api_key=settings.openai_api_key.get_secret_value() or "not-needed",
                                   base_url=settings.openai_base_url, max_retries=2,
                                   timeout=settings.llm_timeout_seconds)

    async def stream(self, question: str, sources: Sequence[Source]) -> AsyncIterator[str]:
        listed = "\n\n".join(f"{s.citation}\n{redact(s.text)}" for s in sources)
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Sources:\n\n{listed}\n\nQuestion: {redact(question)}"},
        ]
        response = await self._client.chat.completions.create(model=self.model, messages=messages, stream=True,
                                                              temperature=0)
        async for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content


def create_answerer(settings: ProviderSettings) -> LLMAnswerer | None:
    """An LLM answerer when a chat model is configured; None means answers stay extractive."""
    return LLMAnswerer(settings) if settings.use_openai(settings.summarizer) else None

"""Picks the summarizer: the LLM when configured, else the local extractive one."""

from __future__ import annotations

from typing import Protocol

from copilot.domain import MergedDocument, Summary
from copilot.providers.local_summarizer import summarize_locally
from copilot.settings import ProviderSettings


class Summarizer(Protocol):
    name: str
    documents_in_flight: int  # how many documents the summarize agent should hand it at once
    documents_per_tenant: int | None  # of those, how many of one tenant (None: no cap)

    async def summarize(self, doc: MergedDocument) -> Summary: ...


class LocalSummarizer:
    name = "local"
    documents_in_flight = 1  # it never waits: more at once would only reorder the work
    documents_per_tenant: int | None = None  # nor does a tenant wait for another

    async def summarize(self, doc: MergedDocument) -> Summary:
        return summarize_locally(doc)  # a few regexes: cheaper than a thread hop


def create_summarizer(settings: ProviderSettings) -> Summarizer:
    if settings.use_openai(settings.summarizer):
        from copilot.providers.llm_summarizer import LLMSummarizer

        return LLMSummarizer(settings)
    return LocalSummarizer()

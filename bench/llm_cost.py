"""LLM calls and tokens per ticket change, and the cost per 1,000 tickets, for the OpenAI summary path.

Every ticket goes through the real LLMSummarizer (redaction, token-counted chunking, map-reduce, validation)
against a local OpenAI-compatible stub on 127.0.0.1. Prompt tokens are what OpenAI would bill: counted with
the model's own tokenizer as the API counts them. The stub's answers are shorter than a real model's, so the
cost takes SUMMARY_TOKENS per answer instead of the stub's. A content change re-summarizes the whole ticket,
so a change costs what a ticket of that length costs; replays of unchanged content cost nothing (tested).

    python -m bench.llm_cost --tickets ../shared/eval/tickets.jsonl --limit 1000 --model gpt-4o-mini
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from pathlib import Path

from bench.documents import documents
from connectors.freshdesk.simulator.demo import generate_tickets
from copilot.documents import document_text
from copilot.providers.llm_summarizer import SUMMARY_TOKENS, LLMSummarizer, dollars, planned_calls
from copilot.redact import redact
from copilot.sandbox import machine
from copilot.settings import ProviderSettings
from tests.openai_stub import start_stub


async def measure(tickets: list[dict], model: str) -> None:
    server, state = await start_stub()
    try:
        settings = ProviderSettings(OPENAI_BASE_URL=str(server.make_url("/v1")), OPENAI_API_KEY="bench",
                                    COPILOT_CHAT_MODEL=model)
        summarizer = LLMSummarizer(settings)
        docs = documents(tickets)
        calls, prompts = [], []
        for doc in docs:  # one at a time, so each ticket's calls and tokens are its own
            before_calls, before_prompt = summarizer.calls, summarizer.tokens["prompt"]
            await summarizer.summarize(doc)
            calls.append(summarizer.calls - before_calls)
            prompts.append(summarizer.tokens["prompt"] - before_prompt)
        planned = [planned_calls(summarizer.tokenizer, redact(document_text(doc))) for doc in docs]
    finally:
        await server.close()
    n = len(docs)
    cost = dollars(model, sum(prompts), sum(calls))
    print(f"machine: {machine()}")
    print(f"{n} tickets, model {model}, tokenizer {'exact' if summarizer.tokenizer.exact else 'ESTIMATED'}")
    print(f"LLM calls per ticket change: mean {sum(calls) / n:.3f}, max {max(calls)}; "
          f"tickets needing map-reduce: {sum(c > 1 for c in calls)}")
    print(f"prompt tokens per ticket change: median {statistics.median(prompts):.0f}, mean {sum(prompts) / n:.0f}, "
          f"max {max(prompts)}")
    stub_answer = summarizer.tokens["completion"] / sum(calls)
    print(f"answers: {SUMMARY_TOKENS} tokens each assumed (the stub's average {stub_answer:.0f})")
    print("estimated cost per 1,000 tickets: " + (f"${cost * 1000 / n:.3f}" if cost is not None else
                                                  f"unknown (no list price for {model})"))
    print(f"dry-run planner (copilot reindex --dry-run): {sum(c for c, _ in planned)} calls, "
          f"{sum(t for _, t in planned):,} prompt tokens; measured {sum(calls)} calls, {sum(prompts):,}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=Path, help="Freshdesk-shaped JSONL (default: generated demo tickets)")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--model", default="gpt-4o-mini")
    args = parser.parse_args()
    if args.tickets:
        with args.tickets.open() as fh:
            tickets = [json.loads(line) for line, _ in zip(fh, range(args.limit), strict=False) if line.strip()]
    else:
        tickets = generate_tickets(args.limit, seed=5)
    asyncio.run(measure(tickets, args.model))


if __name__ == "__main__":
    main()

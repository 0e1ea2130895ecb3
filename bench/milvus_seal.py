"""Milvus Lite search latency before and after a flush ("sealing"), on the project's own collection schema.

Rows written but not flushed are searched by brute force in Python; after a flush they sit in an indexed
segment. This is why the worker flushes once its writes pause (copilot.index.Sealer). It also reports how
many BM25 rankings a single flush (everything into one segment) left exactly as they were.

    python -m bench.milvus_seal --tickets 20000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np

from connectors.freshdesk.simulator.demo import generate_tickets
from copilot.answering import keywords
from copilot.index import CopilotIndex
from copilot.sandbox import machine
from copilot.settings import ApiSettings

TENANT = "bench.freshdesk.test"
QUERIES = 20


def rows_for(count: int) -> list[dict]:
    rng = np.random.default_rng(1)
    rows = []
    for t in generate_tickets(count, seed=3):
        text = "\n".join([t["subject"], t["description_text"], *(c["body_text"] for c in t["conversations"])])
        vector, subject_vector = rng.normal(size=384), rng.normal(size=384)
        rows.append({
            "pk": f"{TENANT}/ticket/{t['id']}", "tenant": TENANT, "ticket_id": t["id"], "subject": t["subject"],
            "text": text, "status": 4, "priority": 1, "problem": t["subject"], "cause": "", "solution": "",
            "result": "", "summarizer": "local", "tags": [], "attachments": [], "content_hash": "h",
            "source_updated_at": 1, "seen_at": 1, "indexed_at": 1, "dense": (vector / np.linalg.norm(vector)).tolist(),
            "subject_dense": (subject_vector / np.linalg.norm(subject_vector)).tolist(),
        })
    return rows


INIT_KEYWORDS = f"/init's keywords ({ApiSettings().init_query_chars} chars)"
QUERY_TEXTS = {
    "subject": lambda row: row["subject"],
    INIT_KEYWORDS: lambda row: keywords(row["text"][:ApiSettings().init_query_chars]),
    "2,000 chars": lambda row: row["text"][:2000],
}


async def measure(index: CopilotIndex, rows: list[dict]) -> tuple[dict[str, float], list[list[int]]]:
    """Median milliseconds per search, and the BM25 rankings for the 2,000-character queries."""
    out, rankings = {}, []
    searches = [("dense", "dense", "subject"), *(("bm25", "bm25", q) for q in QUERY_TEXTS),
                ("hybrid", "hybrid", "2,000 chars")]
    for name, mode, query in searches:
        times = []
        for row in rows[:QUERIES]:
            start = time.perf_counter()
            hits = await index.search_tickets(TENANT, row["dense"], QUERY_TEXTS[query](row), 15, mode=mode)
            times.append(time.perf_counter() - start)
            if (mode, query) == ("bm25", "2,000 chars"):
                rankings.append([h.fields["ticket_id"] for h in hits])
        out[f"{name}, query = {query}"] = statistics.median(times) * 1000
    return out, rankings


@asynccontextmanager
async def written_index(rows: list[dict]) -> AsyncIterator[CopilotIndex]:
    """A throwaway Milvus Lite index on the project's schema holding `rows`, not flushed yet."""
    with tempfile.TemporaryDirectory() as work:
        index = CopilotIndex(str(Path(work) / "milvus.db"), "bench", "v1", 384)
        index.ensure()
        try:
            for start in range(0, len(rows), 1000):
                await index.upsert_tickets(rows[start:start + 1000])
            yield index
        finally:
            index.close()


def cli(run: Callable[[int], Coroutine[Any, Any, None]]) -> None:
    """`--tickets N` (default 20,000), then `run(N)`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=20000)
    asyncio.run(run(parser.parse_args().tickets))


async def run(count: int) -> None:
    rows = rows_for(count)
    async with written_index(rows) as index:
        before, ranked_before = await measure(index, rows)
        index.seal()
        after, ranked_after = await measure(index, rows)
    print(f"machine: {machine()}; {count} tickets, median of {QUERIES} searches each (ms)")
    for label in before:
        print(f"{label}: not flushed {before[label]:.1f}, flushed {after[label]:.1f}, "
              f"x{before[label] / after[label]:.1f}")
    same = sum(a == b for a, b in zip(ranked_before, ranked_after, strict=True))
    print(f"BM25 top-15 rankings identical after one flush: {same} of {len(ranked_before)}")


if __name__ == "__main__":
    cli(run)

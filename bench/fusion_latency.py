"""Hybrid search latency: Milvus's own hybrid_search with RRFRanker (what the index used before) against the
two searches side by side and the weighted fusion in copilot.fusion (what it uses now), on the project's
schema, one flushed segment, /init's query (the ticket's vector and the keywords of its first
COPILOT_INIT_QUERY_CHARS characters).

    python -m bench.fusion_latency --tickets 20000
"""

from __future__ import annotations

import asyncio
import statistics
import time

from pymilvus import AnnSearchRequest, RRFRanker

from bench.milvus_seal import INIT_KEYWORDS, QUERY_TEXTS, TENANT, cli, rows_for, written_index
from copilot.index import TICKET_FIELDS, CopilotIndex, _scope
from copilot.sandbox import machine

QUERIES = 40


async def milvus_rrf(index: CopilotIndex, vector: list[float], text: str, limit: int) -> list:
    """The previous implementation: one hybrid_search call, fused by Milvus (no weights)."""
    scope, depth = _scope(TENANT), max(limit * 4, 20)
    requests = [AnnSearchRequest(data=[vector], anns_field="dense", param={}, limit=depth, expr=scope),
                AnnSearchRequest(data=[text], anns_field="sparse", param={}, limit=depth, expr=scope)]
    result = await asyncio.to_thread(index.client.hybrid_search, index.tickets_alias, requests, RRFRanker(60),
                                     limit=limit, output_fields=TICKET_FIELDS)
    return list(result[0])


async def run(count: int) -> None:
    rows = rows_for(count)
    query = QUERY_TEXTS[INIT_KEYWORDS]
    async with written_index(rows) as index:
        index.seal()
        variants = {
            "Milvus hybrid_search + RRFRanker(60)": lambda r: milvus_rrf(index, r["dense"], query(r), 20),
            "two searches side by side + copilot.fusion": lambda r: index.search_tickets(
                TENANT, r["dense"], query(r), 20),
            "dense only": lambda r: index.search_tickets(TENANT, r["dense"], query(r), 20, mode="dense"),
            "BM25 only": lambda r: index.search_tickets(TENANT, r["dense"], query(r), 20, mode="bm25"),
        }
        medians = {}
        for name, search in variants.items():
            await search(rows[-1])  # warm up
            times = []
            for row in rows[:QUERIES]:
                start = time.perf_counter()
                await search(row)
                times.append(time.perf_counter() - start)
            medians[name] = statistics.median(times) * 1000
    print(f"machine: {machine()}; {count} tickets, median of {QUERIES} searches, limit 20")
    for name, ms in medians.items():
        print(f"{name}: {ms:.1f} ms")


if __name__ == "__main__":
    cli(run)

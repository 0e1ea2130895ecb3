"""Milvus Lite search latency with the project's array scoring (copilot.stack.lite_kernels) against Milvus
Lite's own scoring, on one flushed index of the project's schema served by the project's Milvus server.

The same data directory is served twice, first with array scoring, then with upstream's; every search is
timed in both and its hits (keys and distances) compared.

    python -m bench.milvus_kernels --tickets 20000
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bench.milvus_seal import INIT_KEYWORDS, QUERY_TEXTS, TENANT, cli, rows_for
from copilot.feedback import candidates
from copilot.index import CopilotIndex, Hit, hybrid_depth
from copilot.sandbox import free_port, machine
from copilot.stack.milvus import serving

QUERIES = 20
DEPTH = hybrid_depth(candidates(5))  # how deep /query searches for its default limit of 5: 60
T = TypeVar("T")
Search = Callable[[CopilotIndex, dict], Awaitable[list[Hit]]]

SEARCHES: dict[str, Search] = {
    "dense": lambda index, row: index.search_tickets(TENANT, row["dense"], "", DEPTH, mode="dense"),
    "BM25, the subject": lambda index, row: index.search_tickets(
        TENANT, row["dense"], QUERY_TEXTS["subject"](row), DEPTH, mode="bm25"),
    f"BM25, {INIT_KEYWORDS}": lambda index, row: index.search_tickets(
        TENANT, row["dense"], QUERY_TEXTS[INIT_KEYWORDS](row), DEPTH, mode="bm25"),
    "/query's tickets (dense + BM25, fused)": lambda index, row: index.search_tickets(
        TENANT, row["dense"], QUERY_TEXTS["subject"](row), candidates(5)),
}


async def measure(index: CopilotIndex, rows: list[dict]) -> tuple[dict[str, float], list[list[tuple]]]:
    """Median milliseconds per search, and every search's hits as (key, distance)."""
    medians, hits = {}, []
    for name, search in SEARCHES.items():
        await search(index, rows[-1])  # the first search of a segment builds its BM25 postings
        times = []
        for row in rows[:QUERIES]:
            start = time.perf_counter()
            found = await search(index, row)
            times.append(time.perf_counter() - start)
            hits.append([(h.fields["pk"], h.score) for h in found])
        medians[name] = statistics.median(times) * 1000
    return medians, hits


async def served(work: Path, scoring: str, rows: list[dict] | None, use: Callable[[CopilotIndex], Awaitable[T]]
                 ) -> T:
    """`use(index)` on the project's Milvus server over `work`, after writing and flushing `rows` if given."""
    with serving(work, free_port(), scoring) as server:
        index = CopilotIndex(server.address, "bench", "v1", 384)
        try:
            index.ensure()
            if rows:
                for start in range(0, len(rows), 1000):
                    await index.upsert_tickets(rows[start:start + 1000])
                index.seal()
            return await use(index)
        finally:
            index.close()


async def run(count: int) -> None:
    rows = rows_for(count)
    with tempfile.TemporaryDirectory() as work:
        array, array_hits = await served(Path(work), "array", rows, lambda index: measure(index, rows))
        upstream, upstream_hits = await served(Path(work), "upstream", None, lambda index: measure(index, rows))
    print(f"machine: {machine()}; {count} tickets, one flushed segment, median of {QUERIES} searches (ms)")
    print("| search | Milvus Lite's scoring | array scoring | ratio |")
    print("| --- | --- | --- | --- |")
    for name in SEARCHES:
        print(f"| {name} | {upstream[name]:.1f} | {array[name]:.1f} | x{upstream[name] / array[name]:.1f} |")
    same = sum(a == b for a, b in zip(array_hits, upstream_hits, strict=True))
    print(f"searches with identical hits (keys and distances): {same} of {len(array_hits)}")


if __name__ == "__main__":
    cli(run)

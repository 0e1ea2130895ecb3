"""The stack's Milvus Lite server answers the same with array scoring as with Milvus Lite's own: the same
writes, flushed and unflushed, searched every way the API searches, give identical hits and scores."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from connectors.freshdesk.simulator.demo import generate_tickets
from copilot.index import CopilotIndex, SubjectQuery
from copilot.stack.milvus import serving
from tests.helpers import free_port
from tests.integration.harness import ticket_row

TENANT, OTHER = "scoring.freshdesk.test", "other.freshdesk.test"
FLUSHED, UNFLUSHED = 300, 60


def rows() -> list[dict]:
    rng = np.random.default_rng(7)
    out = []
    for n, ticket in enumerate(generate_tickets(FLUSHED + UNFLUSHED, seed=11)):
        vector = rng.normal(size=16)
        unit = (vector / np.linalg.norm(vector)).tolist()
        text = f"{ticket['subject']}\n{ticket['description_text']}"
        out.append(ticket_row(TENANT if n % 4 else OTHER, ticket["id"], text, unit))
    return out


async def searches(index: CopilotIndex, written: list[dict]) -> list[list[tuple[str, float]]]:
    results = []
    for row in written[::37]:
        words = row["subject"]
        found = [
            await index.search_tickets(TENANT, row["dense"], words, 20, mode="dense"),
            await index.search_tickets(TENANT, row["dense"], words, 20, mode="bm25"),
            await index.search_tickets(TENANT, row["dense"], row["text"][:600], 10, exclude_ticket=row["ticket_id"],
                                       subject=SubjectQuery(row["dense"], words)),
        ]
        results.extend([(h.fields["pk"], h.score) for h in hits] for hits in found)
    return results


async def served(work: Path, scoring: str, written: list[dict]) -> list[list[tuple[str, float]]]:
    with serving(work, free_port(), scoring) as server:
        assert f"array scoring: {'on' if scoring == 'array' else 'off'}" in server.process.tail()
        index = CopilotIndex(server.address, "scoring", "v1", 16)
        try:
            index.ensure()
            await index.upsert_tickets(written[:FLUSHED])
            index.seal()
            await index.upsert_tickets(written[FLUSHED:])  # searched from Milvus Lite's memtable
            return await searches(index, written)
        finally:
            index.close()


def test_array_scoring_answers_as_milvus_lite_does(tmp_path: Path) -> None:
    written = rows()
    array = asyncio.run(served(tmp_path / "array", "array", written))
    upstream = asyncio.run(served(tmp_path / "upstream", "upstream", written))
    assert all(array), "every search found something"
    assert array == upstream

"""The index agent embeds a batch chunk by chunk, writing each chunk while the next one is embedded."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from copilot.documents import embedding_text
from copilot.domain import MergedDocument, SummarizedDocument
from copilot.retrieval_config import RetrievalConfig
from streams.agents.index import _embed_and_upsert
from tests.helpers import at

EMBED = RetrievalConfig().embed
CHUNK = 16


def _items(count: int) -> list[SummarizedDocument]:
    return [SummarizedDocument(MergedDocument(
        tenant="t", ticket_id=n, subject=f"Subject {n}", description_text=f"Problem number {n}", status=4,
        priority=1, created_at=at(0), updated_at=at(1), seen_at=at(1), content_hash=f"c{n}", state_hash=f"s{n}"),
        None) for n in range(count)]


class Embedder:
    """Vector [i] for the i-th text it was ever asked for; `fail_on` makes that call (0-based) raise."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.texts: list[str] = []
        self.calls = 0  # begun so far
        self.called = asyncio.Condition()
        self.fail_on = fail_on

    async def embed(self, texts: list[str]) -> list[list[float]]:
        async with self.called:
            self.calls += 1
            self.called.notify_all()
        if self.calls - 1 == self.fail_on:
            raise RuntimeError("model crashed")
        first = len(self.texts)
        self.texts += texts
        return [[float(first + n)] for n in range(len(texts))]


class Index:
    """The k-th write (0-based) lasts until the embedder has begun call k + 2, the next chunk's, or for 1 s."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.rows: list[dict[str, Any]] = []
        self.overlapped: list[bool] = []

    async def upsert_tickets(self, rows: list[dict[str, Any]]) -> None:
        next_call = len(self.overlapped) + 2
        try:
            await asyncio.wait_for(self._until_call(next_call), 1.0)
            self.overlapped.append(True)
        except TimeoutError:
            self.overlapped.append(False)
        self.rows += rows

    async def _until_call(self, call: int) -> None:
        async with self.embedder.called:
            await self.embedder.called.wait_for(lambda: self.embedder.calls >= call)


async def test_each_chunk_is_written_while_the_next_is_embedded_and_every_row_gets_its_own_vectors():
    items = _items(CHUNK * 2 + 3)
    embedder = Embedder()
    index = Index(embedder)
    await _embed_and_upsert(items, {"t": EMBED}, cast(Any, embedder), cast(Any, index), CHUNK)
    assert embedder.calls == 3
    assert index.overlapped == [True, True, False]  # the last write has no next chunk to overlap
    assert [row["ticket_id"] for row in index.rows] == list(range(len(items)))
    for item, row in zip(items, index.rows, strict=True):
        assert embedder.texts[int(row["dense"][0])] == embedding_text(item.document, None, EMBED)
        assert embedder.texts[int(row["subject_dense"][0])] == item.document.subject


async def test_a_failed_embedding_lets_the_write_in_flight_finish_before_it_is_raised():
    items = _items(CHUNK * 2)
    embedder = Embedder(fail_on=1)
    index = Index(embedder)
    with pytest.raises(RuntimeError, match="model crashed"):
        await _embed_and_upsert(items, {"t": EMBED}, cast(Any, embedder), cast(Any, index), CHUNK)
    assert [row["ticket_id"] for row in index.rows] == list(range(CHUNK))

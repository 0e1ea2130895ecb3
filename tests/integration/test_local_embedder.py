"""The local model: texts of callers that arrive together are encoded together, each caller getting its own."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest

from copilot.providers.embeddings import EMBED_THREAD, LocalEmbedder

QUESTIONS = [["vpn drops every hour"], ["invoice shows the wrong currency", "refund not received"],
             ["sso login loops back to the sign-in page"], ["password reset email never arrives"]]


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


async def test_callers_arriving_together_get_their_own_vectors(embedder: LocalEmbedder,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    alone = [await embedder.embed(texts) for texts in QUESTIONS]
    encoded: list[int] = []
    encode = embedder.encode
    monkeypatch.setattr(embedder, "encode", lambda texts: encoded.append(len(texts)) or encode(texts))
    together = await asyncio.gather(*(embedder.embed(texts) for texts in QUESTIONS))
    assert encoded == [5]  # all four callers asked before an encode began: one encode of their five texts
    for got, want in zip(together, alone, strict=True):
        assert np.allclose(got, want, atol=1e-5)
    assert [len(vectors) for vectors in together] == [1, 2, 1, 1]


def test_a_texts_vector_does_not_depend_on_the_forward_pass_it_shares(embedder: LocalEmbedder) -> None:
    """COPILOT_LOCAL_EMBED_BATCH is a speed setting: padding to a longer neighbour must not move a vector."""
    texts = [text for texts in QUESTIONS for text in texts]
    texts += [f"{texts[0]}, and the customer adds that " + "it happens on every device " * n for n in range(1, 20)]
    alone = np.vstack([embedder.encode([text]) for text in texts])
    size = embedder.batch_size
    try:
        for passes in (2, 16, 64):
            embedder.batch_size = passes
            assert np.allclose(embedder.encode(texts), alone, atol=1e-5), passes
    finally:
        embedder.batch_size = size


async def test_the_model_runs_on_one_thread_the_os_knows_by_name(embedder: LocalEmbedder,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """So `top -H` shows the model's CPU apart from the event loop's, and a benchmark can give it a core."""
    threads: list[int] = []
    encode = embedder.encode
    monkeypatch.setattr(embedder, "encode", lambda texts: threads.append(threading.get_native_id()) or encode(texts))
    for texts in QUESTIONS:
        await embedder.embed(texts)
    assert len(set(threads)) == 1 and threads[0] != threading.get_native_id()
    assert os_thread_name(threads[0]) == EMBED_THREAD


def os_thread_name(native_id: int) -> str:
    return Path(f"/proc/self/task/{native_id}/comm").read_text().strip()

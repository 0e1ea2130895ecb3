"""The local model: texts of callers that arrive together are encoded together, each caller getting its own."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from copilot.providers.embeddings import LocalEmbedder

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

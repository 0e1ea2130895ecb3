"""Weighted reciprocal-rank fusion of ranked lists (dense and BM25), done here rather than by Milvus so each
list can carry a weight per tenant."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def fuse(rankings: Sequence[tuple[Sequence[K], float]], k: int, limit: int) -> list[tuple[K, float]]:
    """Items by the sum over lists of weight / (k + rank), rank from 1; ties keep first-seen order."""
    scores: dict[K, float] = {}
    for ranking, weight in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])[:limit]

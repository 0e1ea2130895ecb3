"""The array kernels give Milvus Lite's own results, bit for bit, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from milvus_lite.index.brute_force import BruteForceIndex
from milvus_lite.index.sparse_inverted import SparseInvertedIndex

from copilot.stack import lite_kernels
from copilot.stack.lite_kernels import UPSTREAM, bm25_search, brute_force_search

CASES = range(40)


def sparse_rows(rng: np.random.Generator, rows: int, vocabulary: int) -> list[dict[int, float]]:
    """Small integer term frequencies over a small vocabulary, so equal scores are common."""
    out = []
    for _ in range(rows):
        terms = rng.choice(vocabulary, size=int(rng.integers(0, 12)), replace=False)
        out.append({int(t) * 7919: float(rng.integers(1, 4)) for t in terms})
    return out


def mask(rng: np.random.Generator, rows: int) -> np.ndarray | None:
    return None if rng.random() < 0.3 else rng.random(rows) < rng.uniform(0.05, 0.95)


def assert_same(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray]) -> None:
    assert np.array_equal(got[0], want[0])
    assert np.array_equal(got[1], want[1])
    assert got[1].dtype == want[1].dtype


@pytest.mark.parametrize("case", CASES)
def test_bm25_matches_upstream(case: int) -> None:
    rng = np.random.default_rng(case)
    rows = int(rng.integers(1, 400))
    index = SparseInvertedIndex(k1=float(rng.choice([1.2, 1.5, 2.0])), b=float(rng.choice([0.5, 0.75])))
    index.build(sparse_rows(rng, rows, 40), valid_mask=mask(rng, rows))
    queries = [{int(t) * 7919: float(rng.integers(1, 3)) for t in rng.choice(45, size=int(rng.integers(0, 6)))}
               for _ in range(3)]
    top_k = int(rng.integers(1, 60))
    search_mask = mask(rng, rows)
    assert_same(bm25_search(index, queries, top_k, valid_mask=search_mask),
                UPSTREAM["bm25"](index, queries, top_k, valid_mask=search_mask))


def test_bm25_ties_keep_the_order_rows_were_first_reached() -> None:
    index = SparseInvertedIndex()
    index.build([{2: 1.0}, {1: 1.0}, {3: 1.0}])  # rows 0 and 1 score the same for "1 2"
    found = bm25_search(index, [{1: 1.0, 2: 1.0}], 2)
    assert found[0].tolist() == [[1, 0]]  # row 1 came through the query's first term
    assert_same(found, UPSTREAM["bm25"](index, [{1: 1.0, 2: 1.0}], 2))


def test_bm25_sees_a_rebuilt_index() -> None:
    rng = np.random.default_rng(1)
    index = SparseInvertedIndex()
    index.build(sparse_rows(rng, 100, 20))
    query = [{7919 * 3: 1.0, 7919 * 5: 1.0}]
    bm25_search(index, query, 10)
    index.build(sparse_rows(rng, 150, 20))
    assert_same(bm25_search(index, query, 10), UPSTREAM["bm25"](index, query, 10))


@pytest.mark.parametrize("case", CASES)
def test_cosine_matches_upstream(case: int) -> None:
    rng = np.random.default_rng(case)
    rows, dim = int(rng.integers(1, 3000)), int(rng.choice([8, 384]))
    vectors = rng.normal(size=(rows, dim)).astype(np.float32)
    vectors[rng.random(rows) < 0.02] = 0.0  # zero rows: upstream's "no information" distance
    if case % 4 == 0:
        vectors[rows // 2:] = vectors[0]  # exact ties
    index = BruteForceIndex(vectors, "COSINE")
    queries = rng.normal(size=(int(rng.integers(1, 3)), dim)).astype(np.float32)
    top_k = int(rng.integers(1, 80))
    search_mask = mask(rng, rows)
    for _ in range(2):  # the second search reads the cached unit vectors
        assert_same(brute_force_search(index, queries, top_k, valid_mask=search_mask),
                    UPSTREAM["brute_force"](index, queries, top_k, valid_mask=search_mask))


def test_other_metrics_are_left_to_upstream() -> None:
    vectors = np.random.default_rng(2).normal(size=(50, 8)).astype(np.float32)
    index = BruteForceIndex(vectors, "L2")
    assert_same(brute_force_search(index, vectors[:1], 5), UPSTREAM["brute_force"](index, vectors[:1], 5))


def test_install_only_on_checked_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SparseInvertedIndex, "search", UPSTREAM["bm25"])
    monkeypatch.setattr(BruteForceIndex, "search", UPSTREAM["brute_force"])
    monkeypatch.setattr(lite_kernels, "LITE_VERSION", "9.9.9")
    assert lite_kernels.install() is False
    assert SparseInvertedIndex.search is UPSTREAM["bm25"]
    monkeypatch.setattr(lite_kernels, "LITE_VERSION", next(iter(lite_kernels.CHECKED_VERSIONS)))
    assert lite_kernels.install() is True
    assert SparseInvertedIndex.search is bm25_search
    assert BruteForceIndex.search is brute_force_search

"""Array-at-a-time BM25 and cosine scoring for the Milvus Lite server this project runs.

Milvus Lite 3.x is pure Python. Its BM25 scorer walks every posting of every query term one row at a time,
and its brute-force cosine search normalizes every stored vector again on every search. At 20,000 tickets that
is half of a 45 ms search, and nine tenths of a 300 ms BM25 search with `/init`'s many keywords
(`bench.milvus_kernels`). These kernels replace the two scoring methods with NumPy versions that do the
same float32 arithmetic in the same order and keep upstream's tie order, so every ranking and distance is
unchanged (`tests/unit/test_lite_kernels.py` checks that against the installed upstream methods). They are
installed only on the Milvus Lite versions they were checked against. The price is memory: one more copy of
each flushed segment's vectors (30 MB per vector field at 20,000 tickets of 384 dimensions), and the posting
lists of the terms searched so far, as arrays.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Mapping

import numpy as np
from milvus_lite import __version__ as LITE_VERSION
from milvus_lite.index.brute_force import BruteForceIndex
from milvus_lite.index.sparse_common import empty_results, validate_mask
from milvus_lite.index.sparse_inverted import SparseInvertedIndex
from milvus_lite.search.distance import METRIC_COSINE

log = logging.getLogger(__name__)

CHECKED_VERSIONS = frozenset({"3.2.2"})
UPSTREAM = {"bm25": SparseInvertedIndex.search, "brute_force": BruteForceIndex.search}

Results = tuple[np.ndarray, np.ndarray]


class _Postings:
    """One BM25 index's posting lists as arrays, converted term by term on first use."""

    def __init__(self, index: SparseInvertedIndex) -> None:
        self.source = index._posting_lists
        self.terms: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        avgdl = index.avgdl if index.avgdl > 0 else 1.0
        # Upstream's per-row `k1 * (1.0 - b + b * dl / avgdl)`, with dl a float32: float32 throughout.
        self.length_norm = index.k1 * (1.0 - index.b + index.b * index._doc_lengths / avgdl)

    def term(self, term_hash: int, k1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(row ids, tf as float32, tf * (k1 + 1) as float32) of one term, or None when no row has it."""
        if term_hash not in self.terms:
            posting = self.source.get(term_hash)
            if not posting:
                return None
            ids = np.fromiter((row for row, _ in posting), dtype=np.int64, count=len(posting))
            tf = np.fromiter((float(f) for _, f in posting), dtype=np.float64, count=len(posting))
            self.terms[term_hash] = (ids, tf.astype(np.float32), (tf * (k1 + 1.0)).astype(np.float32))
        return self.terms[term_hash]


def _postings(index: SparseInvertedIndex) -> _Postings:
    cached: _Postings | None = index.__dict__.get("_array_postings")
    if cached is None or cached.source is not index._posting_lists:  # rebuilt since
        cached = _Postings(index)
        index.__dict__["_array_postings"] = cached
    return cached


def bm25_search(self: SparseInvertedIndex, query_sparse_vectors: list[Mapping[int, float]], top_k: int,
                valid_mask: np.ndarray | None = None) -> Results:
    """`SparseInvertedIndex.search`, a posting list at a time. Ties keep upstream's order: the row first
    reached through an earlier query term, then the lower row id."""
    valid_mask = validate_mask(valid_mask, len(self._doc_lengths))
    all_ids, all_dists = empty_results(len(query_sparse_vectors), top_k)
    if self.doc_count == 0:
        return all_ids, all_dists
    postings = _postings(self)
    rows = len(self._doc_lengths)
    for qi, query_terms in enumerate(query_sparse_vectors):
        scores = np.zeros(rows, dtype=np.float32)
        first_term = np.full(rows, len(query_terms), dtype=np.int64)
        for position, (term_hash, weight) in enumerate(query_terms.items()):
            arrays = postings.term(term_hash, self.k1)
            if arrays is None:
                continue
            ids, tf, tf_scaled = arrays
            df = self._df[term_hash]
            idf = math.log((self.doc_count - df + 0.5) / (df + 0.5) + 1.0)
            if valid_mask is not None:
                keep = valid_mask[ids]
                ids, tf, tf_scaled = ids[keep], tf[keep], tf_scaled[keep]
            contribution = np.float32(idf) * (tf_scaled / (tf + postings.length_norm[ids])) * np.float32(weight)
            scores[ids] += contribution  # a term lists each row once, so no update is lost
            first_term[ids] = np.minimum(first_term[ids], position)
        touched = np.flatnonzero(first_term < len(query_terms))
        if touched.size == 0:
            continue
        best = _top(touched, scores[touched], first_term[touched], min(top_k, touched.size))
        all_ids[qi, :best.size] = best
        all_dists[qi, :best.size] = -scores[best]
    return all_ids, all_dists


def _top(rows: np.ndarray, scores: np.ndarray, first_term: np.ndarray, k: int) -> np.ndarray:
    """The k rows with the highest scores, in upstream's order (stable sort by score over insertion order)."""
    if k < rows.size:
        threshold = np.partition(scores, rows.size - k)[rows.size - k]
        keep = scores >= threshold  # every row tied with the k-th stays, for the tie order below
        rows, scores, first_term = rows[keep], scores[keep], first_term[keep]
    order = np.lexsort((rows, first_term, -scores))
    return rows[order[:k]]


_unit_rows: dict[int, np.ndarray] = {}


def _unit_vectors(vectors: np.ndarray) -> np.ndarray:
    """The stored vectors divided by their norms, as upstream computes them per search; kept while the
    segment's array lives."""
    key = id(vectors)
    units = _unit_rows.get(key)
    if units is None:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        units = vectors / np.where(norms == 0, 1.0, norms)
        _unit_rows[key] = units
        weakref.finalize(vectors, _unit_rows.pop, key, None)
    return units


def brute_force_search(self: BruteForceIndex, queries: np.ndarray, top_k: int,
                       valid_mask: np.ndarray | None = None, params: dict | None = None) -> Results:
    """`BruteForceIndex.search` with each segment's unit vectors computed once, not on every search."""
    if self.metric != METRIC_COSINE or self.num_vectors == 0 or top_k <= 0:
        return UPSTREAM["brute_force"](self, queries, top_k, valid_mask, params)
    queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
    if valid_mask is not None and valid_mask.shape[0] != self.num_vectors:
        raise ValueError(f"valid_mask length {valid_mask.shape[0]} != num_vectors {self.num_vectors}")
    rows = np.arange(self.num_vectors) if valid_mask is None else np.flatnonzero(valid_mask)
    ids, dists = empty_results(queries.shape[0], top_k)
    if rows.size == 0:
        return ids, dists
    units = _unit_vectors(self._vectors)
    if valid_mask is not None:
        units = units[rows]  # BLAS rounds by the matrix's shape: multiply what upstream multiplies
    norms = np.linalg.norm(queries, axis=1, keepdims=True)
    sims = (queries / np.where(norms == 0, 1.0, norms)) @ units.T
    k = min(top_k, rows.size)
    for q, row_dists in enumerate(np.maximum(1.0 - sims, 0.0)):
        order = np.argsort(row_dists) if k == rows.size else _nearest(row_dists, k)
        ids[q, :k] = rows[order[:k]]
        dists[q, :k] = row_dists[order[:k]]
    return ids, dists


def _nearest(dists: np.ndarray, k: int) -> np.ndarray:
    part = np.argpartition(dists, k - 1)[:k]
    return part[np.argsort(dists[part])]


def install() -> bool:
    """Swap in the kernels when this Milvus Lite is a version they were checked against."""
    if LITE_VERSION not in CHECKED_VERSIONS:
        log.warning("milvus-lite %s: scoring kernels not installed (checked against %s); searches run "
                    "upstream's Python scoring", LITE_VERSION, ", ".join(sorted(CHECKED_VERSIONS)))
        return False
    SparseInvertedIndex.search = bm25_search
    BruteForceIndex.search = brute_force_search
    return True

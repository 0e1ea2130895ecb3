"""Milvus Lite's dense and BM25 searches without their walk over every stored row on every call.

Before scoring, Milvus Lite decides which rows a search may return: the newest version of each key, not
deleted since. It does so in Python for every row of every segment on every search call, which at 20,000
tickets was most of a search once the scoring is arrays (`copilot.stack.lite_kernels`). What it decides
depends only on the read snapshot (the flushed segments, the rows not flushed yet, the deletes), which does not
change between writes, so `_LiveRows` keeps it per snapshot: a 60-deep dense search through the server, fields
included, takes 10.5 ms instead of 21.0 (`bench.milvus_kernels`, BENCHMARKS.md). Everything else is
upstream's `execute_search_with_index` and `Collection._search_sparse` step for step (the scalar filter, the
indexes, the merge and its tie order), except that hits are built from the asked columns only where Lite
converts whole rows, both vectors included, and then drops what was not asked for.
`tests/unit/test_lite_search.py` compares the results with upstream's after each of a series of writes:
inserts, flushes, upserts, deletes, and deletes scoped to a partition.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
from milvus_lite.analyzer.sparse import bytes_to_sparse
from milvus_lite.constants import ALL_PARTITIONS
from milvus_lite.engine import collection as lite_collection
from milvus_lite.engine.collection import Collection
from milvus_lite.engine.projection import build_projection_plan, project_record
from milvus_lite.index.brute_force import BruteForceIndex
from milvus_lite.index.sparse_factory import _search_prepared_sparse_index, create_sparse_index, sparse_index_matches
from milvus_lite.search.filter import evaluate_mask
from milvus_lite.search.filter.eval.python_backend import _eval_row
from milvus_lite.search.indexed_filter import evaluate_segment_filter
from milvus_lite.storage.segment import Segment

UPSTREAM: dict[str, Any] = {"dense": lite_collection.execute_search_with_index,
                            "sparse": lite_collection.Collection._search_sparse}


@dataclass(eq=False)
class _Snapshot:
    """What decides which stored rows a search may return, its filter aside."""

    versions: tuple[Segment, ...]  # the segments whose rows' versions count
    searched: tuple[Segment, ...]  # the segments to be searched
    unflushed: tuple[list[Any], list[int]]  # keys and versions of the rows not flushed yet
    pending_deletes: dict[Any, Any]  # deletes not flushed yet: key -> (version, partition)
    deletes: dict[Any, int]  # flushed deletes: key -> version
    by_partition: bool  # upstream's BM25 search honours an unflushed delete only in its own partition

    def same(self, other: _Snapshot) -> bool:
        return (_identical(self.versions, other.versions) and _identical(self.searched, other.searched)
                and self.unflushed == other.unflushed and self.by_partition == other.by_partition
                and self.pending_deletes == other.pending_deletes and self.deletes == other.deletes)


def _identical(these: tuple[Segment, ...], those: tuple[Segment, ...]) -> bool:
    return len(these) == len(those) and all(a is b for a, b in zip(these, those, strict=True))


class _LiveRows:
    """Which rows of the searched segments, and of the unflushed ones, are the newest undeleted version of their
    key in one snapshot: upstream's rules, computed once."""

    def __init__(self, snapshot: _Snapshot) -> None:
        self.snapshot = snapshot
        seqs_of = {id(seg): seg.seqs.tolist() for seg in (*snapshot.versions, *snapshot.searched)}
        self.newest: dict[Any, int] = {}
        for pks, seqs in [(seg.pks, seqs_of[id(seg)]) for seg in snapshot.versions] + [snapshot.unflushed]:
            for pk, seq in zip(pks, seqs, strict=True):
                if seq > self.newest.get(pk, -1):
                    self.newest[pk] = seq
        self.masks = [self._mask(seg.pks, seqs_of[id(seg)], seg.partition) for seg in snapshot.searched]
        self.unflushed_mask = self._mask(*snapshot.unflushed, None)
        for mask in (*self.masks, self.unflushed_mask):
            mask.flags.writeable = False  # shared by every search of the snapshot

    def _mask(self, pks: Sequence[Any], seqs: list[int], partition: str | None) -> np.ndarray:
        deletes, pending_deletes = self.snapshot.deletes, self.snapshot.pending_deletes
        mask = np.zeros(len(pks), dtype=bool)
        for i, (pk, seq) in enumerate(zip(pks, seqs, strict=True)):
            if self.newest.get(pk, -1) > seq or deletes.get(pk, -1) > seq:
                continue
            pending = pending_deletes.get(pk)
            if pending is not None and pending[0] > seq and (
                    not self.snapshot.by_partition or pending[1] in (ALL_PARTITIONS, partition)):
                continue
            mask[i] = True
        return mask


_kept: dict[tuple[str, str | None, frozenset[str] | None], _LiveRows] = {}
_kept_lock = threading.Lock()


def _live_rows(search: str, partitions: frozenset[str] | None, snapshot: _Snapshot) -> _LiveRows:
    """The live rows of this snapshot, computed unless they were for the collection's previous search of this
    kind. One snapshot is kept per collection (its directory), kind and partition set, so that segments merged
    away by a compaction are let go at its next search."""
    home = (search, os.path.dirname(snapshot.versions[0].file_path) if snapshot.versions else None, partitions)
    with _kept_lock:
        known = _kept.get(home)
    if known is not None and known.snapshot.same(snapshot):
        return known
    found = _LiveRows(snapshot)
    with _kept_lock:
        _kept[home] = found
    return found


def dense_search(*, query_vectors: np.ndarray, segments: Any, memtable: Any, delta_index: Any, top_k: int,
                 metric_type: str, pk_field: str, vector_field: str, partition_names: list[str] | None,
                 compiled_filter: Any, output_fields: list[str] | None, indexed_filter_plan: Any,
                 project_record_fn: Callable[[dict[str, Any]], dict[str, Any]],
                 search_params: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """`execute_search_with_index` as its one caller, `Collection.search`, calls it (by keyword, with 2-D float32
    queries and its projection), with the live rows of the snapshot kept and the hits' asked columns built."""
    nq = int(query_vectors.shape[0])
    if nq == 0 or top_k <= 0:
        return [[] for _ in range(nq)]
    wanted = frozenset(partition_names) if partition_names else None
    in_scope = tuple(s for s in segments if s.num_rows > 0 and (wanted is None or s.partition in wanted))
    mt_pks, mt_seqs, mt_vecs, mt_refs, mt_table = memtable.to_search_snapshot(
        vector_field=vector_field, partition_names=partition_names, include_table=compiled_filter is not None)
    if not in_scope and not mt_pks:
        return [[] for _ in range(nq)]
    live = _live_rows("dense", wanted, _Snapshot(in_scope, in_scope, (list(mt_pks), [int(s) for s in mt_seqs]),
                                                 memtable.delete_index_snapshot(), delta_index._map, False))

    candidates: list[list[tuple[float, int, int]]] = [[] for _ in range(nq)]

    def recall(source: int, mask: np.ndarray, vectors: np.ndarray, index: Any) -> None:
        if not mask.any():
            return
        if index is None:
            index = BruteForceIndex.build(vectors, metric_type)
        ids, dists = index.search(query_vectors, top_k, valid_mask=None if mask.all() else mask,
                                  params=search_params)
        _collect(candidates, ids, dists, lambda local: (source, local))

    for source, seg in enumerate(in_scope):
        vectors, not_null = seg.vector_data(vector_field)
        mask = live.masks[source]
        if compiled_filter is not None:
            mask = mask & evaluate_segment_filter(seg, compiled_filter, indexed_filter_plan).astype(bool)
        if not_null is not None:
            mask = mask & np.asarray(not_null, dtype=bool)
        recall(source, mask, vectors, seg.indexes.get(vector_field))
    if mt_pks:
        mask = live.unflushed_mask
        if compiled_filter is not None and mt_table is not None:
            mask = mask & evaluate_mask(compiled_filter, mt_table).astype(bool)
        recall(len(in_scope), mask, mt_vecs, None)

    columns = _AskedColumns(output_fields, pk_field)
    results = []
    for found in candidates:
        found.sort()
        hits = []
        for dist, source, local in found[:top_k]:
            if source < len(in_scope):
                table = in_scope[source].table
                record = columns.row(table, local) if columns.held_by(table) else in_scope[source].row_to_dict(local)
                pk = record[pk_field] if pk_field in record else in_scope[source].pks[local]
            else:
                record = memtable.materialize_row(*mt_refs[local])
                pk = record[pk_field] if pk_field in record else mt_pks[local]
            hits.append({"id": pk, "distance": dist, "entity": project_record_fn(record)})
        results.append(hits)
    return results


def sparse_search(self: Collection, query_vectors: list[Any], vector_field: str, top_k: int, metric_type: str,
                  partition_names: list[str] | None, expr: str | None, output_fields: list[str] | None,
                  timezone: str | None = None) -> list[list[dict[str, Any]]]:
    """`Collection._search_sparse` (BM25 and sparse inner product), with the live rows of the snapshot kept and
    the hits' asked columns built."""
    wanted = frozenset(partition_names) if partition_names else None
    plan = build_projection_plan(output_fields, self._schema, api_kind="search")
    spec = self._index_specs.get(vector_field)
    index_params = spec.build_params if spec else {}
    queries = self._prepare_sparse_queries(query_vectors, vector_field)
    nq = len(queries)
    compiled_filter = self._compile_filter(expr, timezone=timezone) if expr else None
    filter_plan = self._indexed_filter_plan(compiled_filter)
    segments, delta = self._read_snapshot()
    pending_deletes = self._memtable.delete_index_snapshot()
    unflushed = self._memtable.pk_index_snapshot()
    searched = tuple(seg for seg in segments if (wanted is None or seg.partition in wanted)
                     and seg.table is not None and len(seg.table) > 0)
    live = _live_rows("sparse", wanted, _Snapshot(segments, searched, ([pk for pk, _ in unflushed],
                                                                       [pos[2] for _, pos in unflushed]),
                                                  pending_deletes, delta._map, True))
    candidates: list[list[tuple[float, Any, Any]]] = [[] for _ in range(nq)]

    for seg, mask in zip(searched, live.masks, strict=True):
        index = seg.sparse_indexes.get(vector_field)
        if not sparse_index_matches(index, metric_type, index_params):
            index = create_sparse_index(metric_type, index_params)
            index.build([bytes_to_sparse(r) if isinstance(r, bytes) else (r or {})
                         for r in seg.table.column(vector_field).to_pylist()])
            seg.sparse_indexes[vector_field] = index
        if compiled_filter is not None:
            mask = mask & evaluate_segment_filter(seg, compiled_filter, filter_plan)
        if not mask.any():
            continue
        ids, dists = _search_prepared_sparse_index(index, queries, top_k, valid_mask=mask)
        _collect(candidates, ids, dists, partial(_stored, seg))

    mt_pks, mt_vectors, mt_refs = [], [], []
    for pk, seq, record in self._memtable.active_record_snapshots(partition_names=partition_names):
        if delta._map.get(pk, -1) > seq or live.newest.get(pk, -1) > seq:
            continue
        raw = record.get(vector_field)
        mt_pks.append(pk)
        mt_vectors.append(bytes_to_sparse(raw) if isinstance(raw, bytes) else (raw or {}))
        mt_refs.append((record, seq))
    if mt_pks:
        mt_mask = np.ones(len(mt_pks), dtype=bool)
        if compiled_filter is not None:
            for i, (record, _) in enumerate(mt_refs):
                mt_mask[i] = bool(_eval_row(compiled_filter.ast, record))
        mt_index = create_sparse_index(metric_type, index_params)
        mt_index.build(mt_vectors, valid_mask=mt_mask)
        ids, dists = _search_prepared_sparse_index(mt_index, queries, top_k)
        _collect(candidates, ids, dists, lambda local: (mt_pks[local], mt_refs[local]))

    columns = _AskedColumns(output_fields, self._pk_name)
    results = []
    for found in candidates:
        newest: dict[Any, tuple[int, tuple[float, Any, Any]]] = {}  # a key found twice: its newest version
        for candidate in found:
            _, pk, (where, at) = candidate
            seq = int(at) if isinstance(where, dict) else int(where.column("_seq")[at].as_py())
            if pk not in newest or seq > newest[pk][0]:
                newest[pk] = (seq, candidate)
        ranked = sorted((candidate for _, candidate in newest.values()), key=lambda c: c[0])
        hits = []
        for dist, pk, (where, at) in ranked[:top_k]:
            if isinstance(where, dict):
                record = where
            elif columns.held_by(where):
                record = columns.row(where, at)
            else:
                record = {name: where.column(name)[at].as_py() for name in where.column_names
                          if name not in ("_seq", "_partition")}
            hits.append({"id": pk, "distance": dist, "entity": project_record(record, self._schema, plan)})
        results.append(hits)
    return results


def _collect(candidates: list[list[Any]], ids: np.ndarray, dists: np.ndarray, source: Callable[[int], tuple[Any, Any]]
             ) -> None:
    """Adds each query's hits from one source, `(distance, *source(local id))`, up to the padding (-1)."""
    for q, found in enumerate(candidates):
        for local, dist in zip(ids[q].tolist(), dists[q].tolist(), strict=True):
            if local < 0:
                break
            found.append((dist, *source(local)))


def _stored(segment: Segment, local: int) -> tuple[Any, tuple[pa.Table, int]]:
    """A BM25 candidate's key and where its row is."""
    return segment.pks[local], (segment.table, local)


class _AskedColumns:
    """Hits built from the columns a search asked for. Whether a stored table holds them all is decided once per
    table: a name that is not a column is a dynamic field, kept in `$meta`, and then the whole row is built, as
    upstream does."""

    def __init__(self, output_fields: list[str] | None, pk_field: str) -> None:
        self.asked = None if output_fields is None or "*" in output_fields else frozenset({*output_fields, pk_field})
        self._held: dict[int, bool] = {}  # by id(): the tables outlive the search

    def held_by(self, table: pa.Table) -> bool:
        if id(table) not in self._held:
            self._held[id(table)] = self.asked is not None and self.asked.issubset(table.column_names)
        return self._held[id(table)]

    def row(self, table: pa.Table, row: int) -> dict[str, Any]:
        return {name: table.column(name)[row].as_py() for name in self.asked or ()}


def install() -> None:
    lite_collection.execute_search_with_index = dense_search
    Collection._search_sparse = sparse_search

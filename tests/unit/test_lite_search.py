"""Dense and BM25 searches with kept live rows return exactly what Milvus Lite's own do, before and after writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from milvus_lite.db import MilvusLite
from milvus_lite.engine import collection as lite_collection
from milvus_lite.engine.collection import Collection
from milvus_lite.schema.types import CollectionSchema, DataType, FieldSchema, Function, FunctionType
from milvus_lite.storage.segment import Segment

from copilot.stack import lite_search

DIM = 8
SCALARS = ["tenant", "ticket_id", "subject", "tags", "score"]
WORDS = ["login", "vpn", "invoice", "refund", "password", "sso", "printer", "error"]
ASKED = [["pk"], SCALARS, ["subject", "dense"], ["ticket_id", "extra"], ["*"], None]  # "extra" is dynamic


def schema() -> CollectionSchema:
    return CollectionSchema(fields=[
        FieldSchema("pk", DataType.VARCHAR, is_primary=True, max_length=64),
        FieldSchema("tenant", DataType.VARCHAR, max_length=64),
        FieldSchema("ticket_id", DataType.INT64),
        FieldSchema("subject", DataType.VARCHAR, max_length=256, enable_analyzer=True),
        FieldSchema("tags", DataType.JSON),
        FieldSchema("score", DataType.DOUBLE, nullable=True),
        FieldSchema("dense", DataType.FLOAT_VECTOR, dim=DIM),
        FieldSchema("subject_dense", DataType.FLOAT_VECTOR, dim=DIM),
        FieldSchema("sparse", DataType.SPARSE_FLOAT_VECTOR, is_function_output=True),
    ], enable_dynamic_field=True, functions=[Function("bm25", FunctionType.BM25, ["subject"], ["sparse"])])


def rows(rng: np.random.Generator, ids: range) -> list[dict[str, Any]]:
    """Vectors from a few directions, so that equal distances are common and tie order is tested."""
    directions = rng.standard_normal((4, DIM)).astype(np.float32)
    return [{"pk": f"t/{i}", "tenant": f"t{i % 3}", "ticket_id": i, "subject": " ".join(rng.choice(WORDS, 3)),
             "tags": {"n": int(rng.integers(0, 3))}, "score": None if i % 4 == 0 else float(rng.random()),
             "dense": directions[rng.integers(0, 4)].tolist(),
             "subject_dense": rng.standard_normal(DIM).astype(np.float32).tolist(), "extra": f"x{i}"}
            for i in ids]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[MilvusLite]:
    found = MilvusLite(str(tmp_path / "db"))
    yield found
    found.close()
    lite_collection.execute_search_with_index = lite_search.UPSTREAM["dense"]
    Collection._search_sparse = lite_search.UPSTREAM["sparse"]


def collection(db: MilvusLite) -> Collection:
    created = db.create_collection("tickets", schema())
    created.create_index("dense", {"index_type": "BRUTE_FORCE", "metric_type": "COSINE"})
    created.create_index("subject_dense", {"index_type": "BRUTE_FORCE", "metric_type": "COSINE"})
    created.create_index("sparse", {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "BM25"})
    created.load()
    created.create_partition("archive")
    return created


def searches(found: Collection, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    results = []
    for asked in ASKED:
        for field in ("dense", "subject_dense", "sparse"):
            if field == "sparse":
                queries: list[Any] = [" ".join(rng.choice(WORDS, 2)) for _ in range(3)]
            else:
                queries = rng.standard_normal((3, DIM)).astype(np.float32).tolist()
            results.append(found.search(queries, top_k=25, anns_field=field, output_fields=asked,
                                        expr='tenant != "t1"'))
            results.append(found.search(queries[:1], top_k=300, anns_field=field, output_fields=asked))
            results.append(found.search(queries[:1], top_k=40, anns_field=field, output_fields=asked,
                                        partition_names=["archive"]))
    return results


def both(found: Collection, seed: int) -> tuple[list[Any], list[Any]]:
    lite_collection.execute_search_with_index = lite_search.UPSTREAM["dense"]
    Collection._search_sparse = lite_search.UPSTREAM["sparse"]
    want = searches(found, seed)
    lite_search.install()
    return searches(found, seed), want


WRITES = [
    lambda c, rng: c.insert(rows(rng, range(0, 120))),
    lambda c, rng: c.flush(),
    lambda c, rng: c.insert(rows(rng, range(120, 200))),
    lambda c, rng: c.flush(),
    lambda c, rng: c.upsert(rows(rng, range(100, 140))),  # newer versions, unflushed, of flushed rows
    lambda c, rng: c.delete([f"t/{i}" for i in range(0, 200, 7)]),
    lambda c, rng: c.insert(rows(rng, range(200, 230))),
    lambda c, rng: c.insert(rows(rng, range(300, 340)), partition_name="archive"),
    lambda c, rng: c.flush(),
    lambda c, rng: c.delete([f"t/{i}" for i in range(1, 230, 5)]),
    lambda c, rng: c.delete([f"t/{i}" for i in range(300, 340, 3)], partition_name="archive"),
    lambda c, rng: c.delete([f"t/{i}" for i in range(2, 100, 9)], partition_name="archive"),  # live elsewhere
    lambda c, rng: c.flush(),
]


def test_dense_search_equals_upstream_after_each_write(db: MilvusLite) -> None:
    found, rng = collection(db), np.random.default_rng(7)
    for step, write in enumerate(WRITES):
        write(found, rng)
        got, want = both(found, step)
        assert got == want, f"after write {step}"
        got_again, _ = both(found, step)  # the kept live rows of this snapshot
        assert got_again == want, f"after write {step}, searched again"
    assert any(hit["entity"] for result in want for hits in result for hit in hits)


def test_a_search_builds_only_the_asked_columns_of_a_stored_row(db: MilvusLite,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    found, rng = collection(db), np.random.default_rng(7)
    found.insert(rows(rng, range(0, 50)))
    found.flush()
    lite_search.install()
    built: list[set[str]] = []
    real = lite_search._AskedColumns.row

    def spy(self: lite_search._AskedColumns, table: Any, row: int) -> dict[str, Any]:
        record = real(self, table, row)
        built.append(set(record))
        return record

    monkeypatch.setattr(lite_search._AskedColumns, "row", spy)
    monkeypatch.setattr(Segment, "row_to_dict", lambda *_: pytest.fail("built a whole row"))
    found.search([[0.1] * DIM], top_k=10, anns_field="dense", output_fields=["subject"])
    found.search(["login vpn"], top_k=10, anns_field="sparse", output_fields=["subject"])
    assert len(built) == 20 and all(names == {"pk", "subject"} for names in built)

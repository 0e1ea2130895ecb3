"""The dense search with kept live rows returns exactly what Milvus Lite's own does, before and after writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from milvus_lite.db import MilvusLite
from milvus_lite.engine import collection as lite_collection
from milvus_lite.engine.collection import Collection
from milvus_lite.schema.types import CollectionSchema, DataType, FieldSchema
from milvus_lite.storage.segment import Segment

from copilot.stack import lite_search

DIM = 8
SCALARS = ["tenant", "ticket_id", "subject", "tags", "score"]
ASKED = [["pk"], SCALARS, ["subject", "dense"], ["ticket_id", "extra"], ["*"], None]  # "extra" is dynamic


def schema() -> CollectionSchema:
    return CollectionSchema(fields=[
        FieldSchema("pk", DataType.VARCHAR, is_primary=True, max_length=64),
        FieldSchema("tenant", DataType.VARCHAR, max_length=64),
        FieldSchema("ticket_id", DataType.INT64),
        FieldSchema("subject", DataType.VARCHAR, max_length=256),
        FieldSchema("tags", DataType.JSON),
        FieldSchema("score", DataType.DOUBLE, nullable=True),
        FieldSchema("dense", DataType.FLOAT_VECTOR, dim=DIM),
        FieldSchema("subject_dense", DataType.FLOAT_VECTOR, dim=DIM),
    ], enable_dynamic_field=True)


def rows(rng: np.random.Generator, ids: range) -> list[dict[str, Any]]:
    """Vectors from a few directions, so that equal distances are common and tie order is tested."""
    directions = rng.standard_normal((4, DIM)).astype(np.float32)
    return [{"pk": f"t/{i}", "tenant": f"t{i % 3}", "ticket_id": i, "subject": f"subject {rng.integers(0, 5)}",
             "tags": {"n": int(rng.integers(0, 3))}, "score": None if i % 4 == 0 else float(rng.random()),
             "dense": directions[rng.integers(0, 4)].tolist(),
             "subject_dense": rng.standard_normal(DIM).astype(np.float32).tolist(), "extra": f"x{i}"}
            for i in ids]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[MilvusLite]:
    found = MilvusLite(str(tmp_path / "db"))
    yield found
    found.close()
    lite_collection.execute_search_with_index = lite_search.UPSTREAM


def collection(db: MilvusLite) -> Collection:
    created = db.create_collection("tickets", schema())
    created.create_index("dense", {"index_type": "BRUTE_FORCE", "metric_type": "COSINE"})
    created.create_index("subject_dense", {"index_type": "BRUTE_FORCE", "metric_type": "COSINE"})
    created.load()
    return created


def searches(found: Collection, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    results = []
    for asked in ASKED:
        for field in ("dense", "subject_dense"):
            queries = rng.standard_normal((3, DIM)).astype(np.float32).tolist()
            results.append(found.search(queries, top_k=25, anns_field=field, output_fields=asked,
                                        expr='tenant != "t1"'))
            results.append(found.search(queries[:1], top_k=300, anns_field=field, output_fields=asked))
    return results


def both(found: Collection, seed: int) -> tuple[list[Any], list[Any]]:
    lite_collection.execute_search_with_index = lite_search.UPSTREAM
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
    lambda c, rng: c.flush(),
    lambda c, rng: c.delete([f"t/{i}" for i in range(1, 230, 5)]),
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

    def spy(segment: Segment, row: int, asked: set[str] | None) -> dict[str, Any]:
        record = real(segment, row, asked)
        built.append(set(record))
        return record

    real = lite_search._row
    monkeypatch.setattr(lite_search, "_row", spy)
    found.search([[0.1] * DIM], top_k=10, anns_field="dense", output_fields=["subject"])
    assert len(built) == 10 and all(names == {"pk", "subject"} for names in built)

"""Dense searches whose hits are built from the asked columns return exactly what Milvus Lite's own do."""

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

from copilot.stack import lite_rows

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
    return [{"pk": f"t/{i}", "tenant": f"t{i % 3}", "ticket_id": i, "subject": f"subject {rng.integers(0, 5)}",
             "tags": {"n": int(rng.integers(0, 3))}, "score": None if i % 4 == 0 else float(rng.random()),
             "dense": rng.standard_normal(DIM).astype(np.float32).tolist(),
             "subject_dense": rng.standard_normal(DIM).astype(np.float32).tolist(), "extra": f"x{i}"}
            for i in ids]


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[Collection]:
    """Two flushed segments, then upserts, deletes and new rows left in the memtable."""
    rng = np.random.default_rng(7)
    db = MilvusLite(str(tmp_path / "db"))
    found = db.create_collection("tickets", schema())
    found.create_index("dense", {"index_type": "BRUTE_FORCE", "metric_type": "COSINE"})
    found.create_index("subject_dense", {"index_type": "BRUTE_FORCE", "metric_type": "COSINE"})
    found.load()
    found.insert(rows(rng, range(0, 120)))
    found.flush()
    found.insert(rows(rng, range(120, 200)))
    found.flush()
    found.upsert(rows(rng, range(100, 140)))
    found.delete([f"t/{i}" for i in range(0, 200, 7)])
    found.insert(rows(rng, range(200, 230)))
    yield found
    db.close()


@pytest.fixture
def upstream() -> Iterator[None]:
    yield
    lite_collection.execute_search_with_index = lite_rows.UPSTREAM["search"]
    Segment.row_to_dict = lite_rows.UPSTREAM["row_to_dict"]  # type: ignore[method-assign]


def searches(collection: Collection) -> list[Any]:
    rng = np.random.default_rng(11)
    found = []
    for asked in ASKED:
        for field in ("dense", "subject_dense"):
            queries = rng.standard_normal((3, DIM)).astype(np.float32).tolist()
            found.append(collection.search(queries, top_k=25, anns_field=field, output_fields=asked,
                                           expr='tenant != "t1"'))
            found.append(collection.search(queries[:1], top_k=300, anns_field=field, output_fields=asked))
    return found


def test_projected_hits_equal_upstream_hits(collection: Collection, upstream: None) -> None:
    want = searches(collection)
    lite_rows.install()
    got = searches(collection)
    assert got == want
    assert any(hit["entity"] for result in want for hits in result for hit in hits)  # fields were returned


def test_reads_by_key_still_build_whole_rows(collection: Collection, upstream: None) -> None:
    want = collection.get(["t/1", "t/150"])
    lite_rows.install()
    assert collection.get(["t/1", "t/150"]) == want
    assert len(want[0]["dense"]) == DIM


def test_a_projecting_search_builds_no_column_it_was_not_asked_for(collection: Collection, upstream: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    lite_rows.install()
    built: list[set[str]] = []

    def spy(self: Segment, row_idx: int) -> dict[str, Any]:
        row = lite_rows.row_to_dict(self, row_idx)
        built.append(set(row))
        return row

    monkeypatch.setattr(Segment, "row_to_dict", spy)
    collection.search([[0.1] * DIM], top_k=10, anns_field="dense", output_fields=["subject"])
    assert built and all(names == {"pk", "subject"} for names in built)

"""Dense-search hits built from only the columns the search returns, for the Milvus Lite server this project runs.

Milvus Lite builds each hit of a dense search with `Segment.row_to_dict`, which converts every column of the row
to Python, both 384-dimension vectors and the full text included, and only then keeps the fields the search
asked for. At 20,000 tickets that is about 80 us a row, 8 ms of each 100-deep ranking `/query` asks for: most of
a search once the scoring is arrays (`copilot.stack.lite_kernels`). While a dense search runs, the hits it
builds here hold the asked columns and the primary key only, which is all the projection that follows reads;
`tests/unit/test_lite_rows.py` checks the results against upstream's. Reads by key and queries still build
whole rows, and a search asking for every field (`*`) or for a field no column holds takes upstream's path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from milvus_lite.engine import collection as lite_collection
from milvus_lite.storage.segment import Segment

UPSTREAM: dict[str, Callable[..., Any]] = {
    "search": lite_collection.execute_search_with_index, "row_to_dict": Segment.row_to_dict,
}
_searching = threading.local()  # the columns the dense search running on this thread returns, if it projects


def projected_search(*args: Any, **kwargs: Any) -> Any:
    """execute_search_with_index, its hits built from the asked columns (the gRPC server runs one search per
    thread, hence a thread-local)."""
    output_fields = kwargs.get("output_fields")
    asked = None
    if output_fields is not None and "*" not in output_fields:
        asked = frozenset({*output_fields, kwargs["pk_field"]})
    _searching.columns = asked
    try:
        return UPSTREAM["search"](*args, **kwargs)
    finally:
        _searching.columns = None


def row_to_dict(self: Segment, row_idx: int) -> dict[str, Any]:
    """The asked columns of the row while a projecting search runs; otherwise, or when a name asked is not a
    column (a dynamic field, kept in `$meta`), upstream's whole row."""
    asked: frozenset[str] | None = getattr(_searching, "columns", None)
    if asked is None or not asked.issubset(self.table.schema.names):
        return UPSTREAM["row_to_dict"](self, row_idx)
    return {name: self.table.column(name)[row_idx].as_py() for name in asked}


def install() -> None:
    lite_collection.execute_search_with_index = projected_search
    Segment.row_to_dict = row_to_dict

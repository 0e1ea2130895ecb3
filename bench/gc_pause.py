"""How long a full garbage collection stalls the API process, before and after copilot.heap freezes what
startup loaded (the app's imports and the local embedding model).

    python -m bench.gc_pause
"""

from __future__ import annotations

import gc
import statistics
import time

from api.app import create_app
from copilot.heap import freeze_loaded_objects
from copilot.providers.embeddings import LocalEmbedder
from copilot.sandbox import machine
from copilot.settings import Settings

RUNS = 5


def collection_ms() -> float:
    """Median milliseconds of a full collection."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    create_app(Settings())
    LocalEmbedder()
    tracked = len(gc.get_objects())
    before = collection_ms()
    freeze_loaded_objects()
    after = collection_ms()
    print(f"machine: {machine()}; {tracked} objects tracked after startup")
    print(f"full collection, median of {RUNS}: {before:.1f} ms before the freeze, {after:.1f} ms after")


if __name__ == "__main__":
    main()

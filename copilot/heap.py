"""Keeping the garbage collector off the objects a process loads once and keeps.

Importing torch and loading the embedding model leaves ~620,000 objects the collector tracks; a full
collection walks all of them (280-340 ms on the 2-core bench machine, `bench.gc_pause`) and runs whenever
enough new objects have survived, stalling every request in flight. Freezing them after startup moves them to
a generation the collector never scans (0.0 ms afterwards).
"""

from __future__ import annotations

import gc


def freeze_loaded_objects() -> None:
    """Call once the long-lived clients and models are loaded."""
    gc.collect()
    gc.freeze()

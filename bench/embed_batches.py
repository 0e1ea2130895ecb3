"""The local model's rate on the pipeline's inputs, by forward-pass size (`COPILOT_LOCAL_EMBED_BATCH`).

Each forward pass pads its texts to the longest one. `encode()` sorts a call's texts by length first, so one
call over every ticket pads little at any pass size. The index agent calls it once per batch of up to 64
tickets (each ticket's text and its subject), where long passes mix lengths. Both are timed here, repeated
in turn, medians reported.

    python -m bench.embed_batches --tickets 320 --passes 64,32,16 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.documents import documents, embedding_inputs
from connectors.freshdesk.simulator.demo import generate_tickets
from copilot.providers.embeddings import LocalEmbedder
from copilot.sandbox import machine
from copilot.settings import WorkerSettings

INDEX_BATCH: int = WorkerSettings.model_fields["index_batch_size"].default  # tickets per index-agent call


def rate(embedder: LocalEmbedder, calls: list[list[str]], tickets: int) -> float:
    start = time.perf_counter()
    for call in calls:
        embedder.encode(call)
    return tickets / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=320)
    parser.add_argument("--passes", default="64,32,16", help="forward-pass sizes to compare")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts, subjects = embedding_inputs(documents(generate_tickets(args.tickets, seed=3)))  # bench.pipeline's
    shapes = {"one call": [texts + subjects],
              f"calls of {INDEX_BATCH} tickets": [texts[i:i + INDEX_BATCH] + subjects[i:i + INDEX_BATCH]
                                                  for i in range(0, len(texts), INDEX_BATCH)]}
    embedder = LocalEmbedder()
    passes = [int(p) for p in args.passes.split(",")]
    rates: dict[tuple[int, str], list[float]] = {}
    for _ in range(args.repeats):
        for size in passes:
            embedder.batch_size = size
            for shape, calls in shapes.items():
                rates.setdefault((size, shape), []).append(rate(embedder, calls, len(texts)))
    print(f"machine: {machine()}; {len(texts)} tickets, median of {args.repeats}, tickets/s (text and subject)")
    for size in passes:
        print(f"passes of {size}: " + ", ".join(
            f"{shape} {statistics.median(rates[(size, shape)]):.1f}" for shape in shapes))


if __name__ == "__main__":
    main()

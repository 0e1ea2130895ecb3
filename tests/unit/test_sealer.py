"""Sealing Milvus Lite's written collections: soon after writes, once per interval, nothing left unsealed."""

import asyncio
import time

from pymilvus import MilvusException

from copilot.index import Sealer

AFTER = 0.05


class Flushes:
    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[tuple[str, float]] = []
        self._fail = fail_first

    def __call__(self, collection: str) -> None:
        if self._fail:
            self._fail -= 1
            raise MilvusException(message="server busy")
        self.calls.append((collection, time.monotonic()))


async def test_a_burst_of_writes_is_sealed_once_per_collection():
    flushes = Flushes()
    sealer = Sealer(flushes, AFTER)
    for _ in range(20):
        sealer.written("tickets")
    sealer.written("articles")
    await sealer.drained()
    assert sorted(c for c, _ in flushes.calls) == ["articles", "tickets"]


async def test_writes_during_a_round_are_sealed_by_the_next_round():
    flushes = Flushes()
    sealer = Sealer(flushes, AFTER)
    sealer.written("tickets")
    await asyncio.sleep(AFTER * 1.5)  # the first round has flushed
    sealer.written("tickets")
    await sealer.drained()
    assert [c for c, _ in flushes.calls] == ["tickets", "tickets"]
    assert flushes.calls[1][1] - flushes.calls[0][1] >= AFTER * 0.9  # never more often than the interval


async def test_a_failed_flush_is_tried_again_and_zero_means_never():
    flushes = Flushes(fail_first=1)
    sealer = Sealer(flushes, AFTER)
    sealer.written("tickets")
    await sealer.drained()
    assert [c for c, _ in flushes.calls] == ["tickets"]
    never = Flushes()
    Sealer(never, 0).written("tickets")
    await asyncio.sleep(AFTER * 2)
    assert never.calls == []

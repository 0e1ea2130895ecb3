"""Sealing Milvus Lite's written collections: once writes pause, once per pause, nothing left unsealed."""

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


async def test_steady_writes_postpone_the_seal_until_they_pause():
    flushes = Flushes()
    sealer = Sealer(flushes, AFTER)
    started = time.monotonic()
    for _ in range(6):  # a write every half interval: never a pause
        sealer.written("tickets")
        await asyncio.sleep(AFTER / 2)
    last_write = time.monotonic() - AFTER / 2
    assert flushes.calls == []
    await sealer.drained()
    assert [c for c, _ in flushes.calls] == ["tickets"]
    assert flushes.calls[0][1] - last_write >= AFTER * 0.9 and flushes.calls[0][1] - started >= AFTER * 3


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


async def test_writes_that_never_pause_are_sealed_once_the_oldest_is_old_enough():
    flushes = Flushes()
    sealer = Sealer(flushes, AFTER, longest=AFTER * 4)
    started = time.monotonic()
    for _ in range(16):  # a write every half interval for 8 intervals: never a pause
        sealer.written("tickets")
        await asyncio.sleep(AFTER / 2)
    assert flushes.calls, "steady writes must not postpone the seal forever"
    assert AFTER * 4 * 0.9 <= flushes.calls[0][1] - started < AFTER * 7.5  # due at 4, the writes end at 8
    await sealer.drained()

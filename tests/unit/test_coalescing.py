"""Coalescer: a lone query runs at once; queries arriving meanwhile share the next call; failures stay their own."""

from __future__ import annotations

import asyncio

import pytest

from copilot.coalescing import Coalescer


class Recorder:
    """A call that takes until released, recording what each call was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[int]]] = []
        self.release = asyncio.Event()

    async def __call__(self, kind: str, queries: list[int]) -> list[int]:
        self.calls.append((kind, queries))
        await self.release.wait()
        if -1 in queries:
            raise ValueError("bad query")
        return [q * 10 for q in queries]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_lone_query_runs_at_once_and_later_ones_share_the_next_call() -> None:
    call = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(call)
    first = asyncio.create_task(coalescer.submit("dense", 1))
    await settle()
    assert call.calls == [("dense", [1])]  # not held back to fill a batch
    later = [asyncio.create_task(coalescer.submit("dense", q)) for q in (2, 3, 4)]
    await settle()
    assert call.calls == [("dense", [1])]  # one call of a kind at a time
    call.release.set()
    assert await first == 10
    assert await asyncio.gather(*later) == [20, 30, 40]
    assert call.calls == [("dense", [1]), ("dense", [2, 3, 4])]


async def test_kinds_run_side_by_side() -> None:
    call = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(call)
    tasks = [asyncio.create_task(coalescer.submit(kind, 1)) for kind in ("dense", "sparse")]
    await settle()
    assert sorted(call.calls) == [("dense", [1]), ("sparse", [1])]
    call.release.set()
    assert await asyncio.gather(*tasks) == [10, 10]


async def test_a_failed_call_is_retried_query_by_query_so_only_the_bad_query_fails() -> None:
    call = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(call)
    first = asyncio.create_task(coalescer.submit("dense", 1))
    await settle()
    good, bad = asyncio.create_task(coalescer.submit("dense", 2)), asyncio.create_task(coalescer.submit("dense", -1))
    call.release.set()
    assert await first == 10
    assert await good == 20
    with pytest.raises(ValueError, match="bad query"):
        await bad
    assert call.calls[1:] == [("dense", [2, -1]), ("dense", [2]), ("dense", [-1])]


async def test_a_caller_that_goes_away_leaves_the_others_answered() -> None:
    call = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(call)
    first = asyncio.create_task(coalescer.submit("dense", 1))
    await settle()
    gone, kept = asyncio.create_task(coalescer.submit("dense", 2)), asyncio.create_task(coalescer.submit("dense", 3))
    await settle()
    gone.cancel()
    call.release.set()
    assert await first == 10
    assert await kept == 30
    assert gone.cancelled()


async def test_batches_are_capped() -> None:
    call = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(call, max_batch=2)
    tasks = [asyncio.create_task(coalescer.submit("dense", q)) for q in range(5)]
    call.release.set()
    assert await asyncio.gather(*tasks) == [0, 10, 20, 30, 40]
    assert [queries for _, queries in call.calls] == [[0, 1], [2, 3], [4]]
